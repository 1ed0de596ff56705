"""No receipt lookup id is kept in the clear (issue 27, the fresh review's M2): cases the server
sealed once kept it, so a copy of the database opened their status sessions through
`POST /status/sealed`. Migration 52 replaces each by its hash; the portal stores and accepts only
hashes, and a discloser's receipt opens their case as before, with script and without."""
from __future__ import annotations

import sqlite3

import crypto
from portal.web.app import create_app
from tests.support import csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from
from tests.support.discloser import open_status
from tests.support.sealing import status_with_script, unb64


def _client(data_dir):
    app = create_app(data_dir)
    app.config["TESTING"] = True
    return app.test_client()


def _disclose_without_script(client) -> str:
    token = csrf_token(client.get("/disclose").text)
    page = post_multipart(client, "/disclose", disclosure_fields(token, "Fuel cards used on weekends."))
    assert page.status_code == 200, page.text[:300]
    return receipt_from(page.text)


def _lookup(client, receipt: str) -> str:
    """The lookup the status page's script derives from the receipt (the setup's newest version)."""
    setup = client.get("/status/sealed/setup").get_json()
    params = setup["receipt"]["versions"][0]["params"]
    return crypto.derive_receipt_identity(receipt, unb64(setup["receipt"]["salt"]),
                                          crypto.KdfParams(params["opslimit"], params["memlimit"])).lookup_id


def _stored(data_dir) -> list[str]:
    conn = sqlite3.connect(data_dir / "portal.db")
    try:
        return [row[0] for row in conn.execute("SELECT receipt_lookup FROM cases")]
    finally:
        conn.close()


def _as_before_migration_52(data_dir, lookup: str) -> None:
    """The installation as the code before migration 52 left it: the server-sealed case's raw
    lookup in its row, and migration 52 not applied."""
    conn = sqlite3.connect(data_dir / "portal.db")
    conn.execute("UPDATE cases SET receipt_lookup = ?", [lookup])
    conn.execute("DELETE FROM schema_migrations WHERE number = 52")
    conn.execute("PRAGMA user_version = 49")
    conn.commit()
    conn.close()


def test_a_lookup_read_from_the_database_opens_nothing_and_an_old_installation_upgrades(installation):
    data_dir = installation.data_dir
    client = _client(data_dir)
    receipt = _disclose_without_script(client)
    lookup = _lookup(client, receipt)
    # Stored from now on: only the hash, for a case the server sealed too.
    assert _stored(data_dir) == [crypto.lookup_hash(lookup)]
    assert status_with_script(client, lookup)[1].status_code == 200

    # An installation made before migration 52 keeps the raw lookup; opening it upgrades it.
    _as_before_migration_52(data_dir, lookup)
    client = _client(data_dir)
    assert _stored(data_dir) == [crypto.lookup_hash(lookup)]
    assert files_containing(data_dir, lookup.encode()) == []
    # The receipt still opens the case, with script and without.
    opened = status_with_script(client, lookup)[1]
    assert opened.status_code == 200, opened.text
    assert open_status(client.application.test_client(), receipt).status_code == 303

    # What the database holds, sent as a lookup, is answered as an unknown lookup is.
    from_database = _stored(data_dir)[0].removeprefix("h1:")
    copied = status_with_script(client.application.test_client(), from_database)[1]
    unknown = status_with_script(client.application.test_client(), crypto.new_case_key().hex())[1]
    assert copied.status_code == unknown.status_code == 404
    assert copied.get_json() == unknown.get_json()


def test_a_raw_lookup_left_in_a_row_opens_nothing(installation):
    # A value that is not a hash (what the code before migration 52 kept) is never compared: a
    # copy of an old database's row opens no status session.
    data_dir = installation.data_dir
    client = _client(data_dir)
    lookup = _lookup(client, _disclose_without_script(client))
    conn = sqlite3.connect(data_dir / "portal.db")
    conn.execute("UPDATE cases SET receipt_lookup = ?", [lookup])
    conn.commit()
    conn.close()
    answer = status_with_script(client, lookup)[1]
    assert answer.status_code == 404
