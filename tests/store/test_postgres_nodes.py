"""Two `portal serve` nodes on one PostgreSQL database (issue 30): each node is an app on a data
directory of its own (a copy of the first node's, so the same installation secrets), both with
PORTAL_DATABASE_URL naming one database. What one node spends, the other sees: a sign-in budget,
a spent proof, the minute's load that sets the proofs' difficulty, the no-script ticket line, the
places of receipt checks (on SQLite these are per machine: process memory and /dev/shm, which two
data directories here would not share). Two served nodes (`portal serve`): a one-time submission
token honoured across them, one killed with SIGKILL mid-upload leaving no half case while the
other serves, the blobs being rows either node reads. The witness (PORTAL_WITNESS_DIR) gives every
node the heads the other committed.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import psycopg
import pytest

from portal.core.config import load_settings
from portal.guard import proofs, work_queues
from portal.web.app import create_app
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.proofs import bits_of, challenge_from, drop_ticket, solved


@pytest.fixture(autouse=True)
def database_url(migrated, monkeypatch) -> str:
    url = migrated("nodes")
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    return url


@pytest.fixture
def nodes(installation, tmp_path):
    """(node 1's data directory, node 2's): the same installation, one database."""
    second = tmp_path / "node2"
    shutil.copytree(installation.data_dir, second)
    return installation.data_dir, second


def node(data_dir, **overrides):
    app = create_app(settings=load_settings(data_dir, **overrides))
    app.config["TESTING"] = True
    return app


def cases(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM cases").fetchone()[0]


def test_proofs_spent_on_one_node_raise_the_difficulty_on_the_other_and_cannot_be_replayed(
        nodes, monkeypatch):
    frozen = time.time()  # one minute of load, whatever the clock
    monkeypatch.setattr(time, "time", lambda: frozen)
    settings = dict(pow_bits=2, pow_calm_per_minute=2, pow_max_bits=6)
    first, second = node(nodes[0], **settings), node(nodes[1], **settings)
    assert bits_of(challenge_from(second.test_client().get("/status").text)) == 2
    client = first.test_client()
    for _ in range(4):
        page = client.get("/status").text
        paid = dict(solved(page))
        drop_ticket(client, "status")
        fields = {"csrf_token": csrf_token(page), "receipt": proofs_receipt()} | paid
        assert client.post("/status", data=fields).status_code == 400  # paid, opened nothing
    # Node 2 is another machine: nothing of node 1's process memory is its own.
    monkeypatch.setattr(proofs, "_process", proofs._Process())
    on_second = second.test_client()
    assert bits_of(challenge_from(on_second.get("/status").text)) > 2
    # The last proof node 1 took, sent to node 2: spent already.
    token = csrf_token(on_second.get("/status").text)
    drop_ticket(on_second, "status")
    replay = on_second.post("/status", data={"csrf_token": token, "receipt": proofs_receipt()}
                            | paid)
    assert replay.status_code == 503


def proofs_receipt() -> str:
    import crypto

    return crypto.new_receipt()  # well formed; opens nothing


def test_a_sign_in_budget_one_node_spends_is_spent_on_the_other(nodes, installation):
    """Failed sign-ins for one address on node 1 pause that address on node 2 too (429): the
    budget's rows are the shared database's."""
    from portal.guard import sign_in_budget

    def junk(app, number: int) -> int:
        client = app.test_client()
        token = csrf_token(client.get("/console/login").text)
        return client.post("/console/login", data={
            "csrf_token": token, "email": installation.officer.email,
            "passphrase": f"guess {number}", "totp": f"{number:06d}"}).status_code

    first, second = node(nodes[0]), node(nodes[1])
    free = sign_in_budget.FREE_FAILURES
    assert [junk(first, n) for n in range(free)] == [400] * free
    assert junk(second, free) == 429


def test_the_no_script_line_one_node_fills_is_full_on_the_other(nodes):
    from tests.guard.test_flood import hoard_places

    settings = dict(tickets_per_minute=2, ticket_line_seconds=60, no_script_wait_seconds=0)
    first, second = node(nodes[0], **settings), node(nodes[1], **settings)
    assert hoard_places(first.test_client(), 4) == [400, 503, 503, 503]
    assert hoard_places(second.test_client(), 1) == [503]  # the first comer on node 2 waits


def test_a_receipt_place_one_node_holds_is_taken_for_the_other_and_shared_rows_are_sealed(
        nodes, database_url):
    """The receipt checks' places are advisory locks every node sees; the minute's counts are
    rows of an UNLOGGED table whose names and values the database server cannot read."""
    one, two = load_settings(nodes[0]), load_settings(nodes[1])
    with work_queues.shared_place(one, "receipt", 1, time.monotonic()):
        with pytest.raises(work_queues.Busy):
            with work_queues.shared_place(two, "receipt", 1, time.monotonic()):
                pass
    with work_queues.shared_place(two, "receipt", 1, time.monotonic()):
        pass  # given back: free again for either

    proofs.count_spent(one, "status")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT name, value FROM shared_state").fetchall()
        persistence = conn.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = 'shared_state'").fetchone()[0]
    assert persistence == "u"  # UNLOGGED: in no WAL, no archive, no replica
    assert rows and all("status" not in name and "spent" not in name for name, _ in rows)
    minute = str(int(time.time()) // 60).encode()
    assert all(minute not in bytes(value) for _, value in rows)


def _served_children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.slow
def test_two_served_nodes_one_killed_mid_upload_leave_no_half_case_and_the_other_serves(
        nodes, installation, database_url):
    """Two `portal serve` nodes on one database. Node 1 is killed with SIGKILL (its master and
    worker) while a disclosure's file is half written into the database; meanwhile node 2 takes a
    disclosure with a file (the same form sent again to node 1 makes no second case) and begins
    another upload. After the kill node 2 still serves; no case
    of node 1's exists; its chunks (its writer's advisory lock gone with its connection) are
    swept, node 2's live upload is not; node 1, started again, serves node 2's file from the
    database's chunks (portal.store.database_blobs), with no blob file in either data directory;
    the audit chain verifies."""
    import os
    import signal
    import socket

    from click.testing import CliRunner

    from portal.cli import main as portal_cli
    from portal.store import blob_store, database_blobs
    from tests.guard.served_uploads import disclosure_request
    from tests.support import HttpClient, start_server
    from tests.support.console import ATTACHMENT, open_only_case

    # A stalled body is not cut off by the slow-client guard before the kill, however loaded the
    # machine.
    patient = {"PORTAL_BODY_IDLE_TIMEOUT": "600", "PORTAL_BODY_RATE_GRACE": "600"}
    first = start_server(nodes[0], workers=1, env=patient)
    second = start_server(nodes[1], workers=1, env=patient)
    try:
        head, body = disclosure_request(first.port, "Half sent.",
                                        [("attachments", "big.bin", os.urandom(8 * 1024 * 1024))])
        half = body.index(b"big.bin") + 3 * 1024 * 1024
        upload = socket.create_connection(("127.0.0.1", first.port))
        upload.sendall(head + body[:half])  # and no more: node 1 is mid-upload
        with psycopg.connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while (mid_write := conn.execute(
                    "SELECT count(*) FROM blob_chunks JOIN stored_blobs USING (name)"
                    " WHERE finished = 0").fetchone()[0]) < 8:  # 2 MiB in 256 KiB chunks
                assert time.monotonic() < deadline, first.output()
                time.sleep(0.05)
            writers = [row[0] for row in conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory'")]
        # Node 2 serves meanwhile. A form from node 2's page makes a case there; the same form
        # (its cookies too) sent again to the other node, as a browser resending would, is
        # "already received" (409): its one-time token is in the shared database.
        discloser = HttpClient("127.0.0.1", second.port)
        page = discloser.get("/disclose").text
        submission = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', page)[1]
        fields = disclosure_fields(csrf_token(page), "Sent whole.", submission_token=submission)
        sent = discloser.post_multipart("/disclose", fields,
                                        [("attachments", "report.svg", ATTACHMENT)])
        assert sent.status == 200 and receipt_from(sent.text)
        again = HttpClient("127.0.0.1", first.port, cookies=dict(discloser.cookies))
        assert again.post_multipart("/disclose", fields).status == 409
        live = blob_store(nodes[1]).writer()  # an upload of node 2's, in progress
        live.file.write(b"x" * database_blobs.CHUNK_BYTES)

        for pid in (*_served_children(first.process.pid), first.process.pid):
            os.kill(pid, signal.SIGKILL)
        first.process.wait()
        upload.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY (%s)",
                               (writers,)).fetchone()[0]:
                assert time.monotonic() < deadline
                time.sleep(0.01)  # the server ends the dead node's sessions, and their locks
        assert HttpClient("127.0.0.1", second.port).get("/disclose").status == 200
        assert blob_store(nodes[1]).sweep_unfinished() == 1  # node 1's, not node 2's live one
        live.discard()
    finally:
        first.stop()
        second.stop()
    assert cases(database_url) == 1  # node 2's; nothing of node 1's half-sent disclosure
    officer = node(nodes[0]).test_client()  # node 1, started again
    _, _, download_url = open_only_case(officer, installation.officer)
    assert officer.get(download_url).data == ATTACHMENT
    for data_dir in nodes:
        assert not [path for path in data_dir.rglob("*") if path.suffix in (".blob", ".part")]
    with psycopg.connect(database_url) as conn:
        (largest,) = conn.execute("SELECT max(length(data)) FROM blob_chunks").fetchone()
        (unfinished,) = conn.execute(
            "SELECT count(*) FROM stored_blobs WHERE finished = 0").fetchone()
    assert largest <= database_blobs.CHUNK_BYTES < len(ATTACHMENT)  # written and read in chunks
    assert unfinished == 0
    verified = CliRunner().invoke(portal_cli, ["--data", str(nodes[1]), "audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_the_witness_holds_every_nodes_heads_so_a_tail_cut_after_the_other_node_is_found(
        nodes, installation, database_url, tmp_path, monkeypatch):
    """With PORTAL_WITNESS_DIR (portal.store.witness), node 1's `portal audit verify` knows the
    head node 2 committed last: the entry cut from the database's tail is found, though node 1's own
    head file is from before it. Each head is a new file there, never rewritten."""
    from click.testing import CliRunner

    from portal.cli import main as portal_cli
    from tests.support.console import sign_in

    witness = tmp_path / "witness"
    monkeypatch.setenv("PORTAL_WITNESS_DIR", str(witness))
    first, second = node(nodes[0]), node(nodes[1])
    # Sign-ins are audited at once (a discloser's writes wait for the day's batch).
    assert sign_in(first.test_client(), installation.officer).status_code == 303
    assert sign_in(second.test_client(), installation.other_officer).status_code == 303

    def verify(data_dir):
        return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify"])

    assert verify(nodes[0]).exit_code == 0
    heads = sorted(path.name for path in (witness / "audit").iterdir())
    assert len(heads) >= 2 and len({name.split(".")[0] for name in heads}) == len(heads)
    with psycopg.connect(database_url) as conn:
        conn.execute("SET session_replication_role = replica")  # past the append-only trigger
        conn.execute("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    cut = verify(nodes[0])
    assert cut.exit_code != 0 and "cut off" in cut.output and "the witness" in cut.output
