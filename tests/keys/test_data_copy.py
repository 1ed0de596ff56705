"""A thief's copy of the whole data directory (issue 16): taken while an officer and a discloser are signed in,
with every file in it (database, write-ahead log, installation secrets, blobs) but no passphrase, receipt,
cookie or recovery share, it opens no case. Every 32-byte value stored in the database or in any file is tried
as a case key, an officers-only or identity key, and as the private key of a recipient of a sealed key."""
from __future__ import annotations

import base64
import binascii
import re
import shutil

import nacl.bindings

import crypto
from portal.core.context import open_context
from tests.conftest import MARKER, run_cli
from tests.support import database
from tests.support.console import case_links, sign_in
from tests.support.discloser import open_status
from tests.support.keys import new_recovery_key, set_recovery_key
from tests.support.keys import opens
from tests.support.conflicts import disclose_excluding
from tests.support.workflow import disclose_to, post

KEY = 32
TOKEN = re.compile(rb"[0-9A-Fa-f]{64}|[A-Za-z0-9+/_-]{43}=?")


def windows(data: bytes) -> set[bytes]:
    return {data[i:i + KEY] for i in range(len(data) - KEY + 1)}


def decoded_tokens(data: bytes) -> set[bytes]:
    """32-byte values written as hex or base64 text (installation secrets, cookies' halves, ids)."""
    found = set()
    for token in TOKEN.findall(data):
        for decode in (bytes.fromhex, base64.b64decode, base64.urlsafe_b64decode):
            try:
                value = decode(token.decode() + ("=" * (-len(token) % 4) if decode is not bytes.fromhex else ""))
            except (ValueError, binascii.Error):
                continue
            if len(value) == KEY:
                found.add(value)
    return found


def candidates(copy) -> set[bytes]:
    """Every 32-byte value in the copy: each 32-byte database cell and every 32-byte run inside a binary one,
    every 32-byte run of every other file, and every 32-byte value written anywhere as hex or base64."""
    found: set[bytes] = set()
    db = database.connect(copy)  # on PostgreSQL the database the copy's installation names
    for _, row in database.every_row(db):
        for cell in row:
            if isinstance(cell, bytes):
                found |= windows(cell)
            elif isinstance(cell, str):
                found |= decoded_tokens(cell.encode()) | ({cell.encode()} if len(cell.encode()) == KEY else set())
    db.close()
    for path in copy.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found |= decoded_tokens(data)
            if not path.name.startswith("portal.db"):  # the database's own pages: its cells were read above
                found |= windows(data)
    return found


def test_a_copy_of_the_data_directory_with_live_sessions_opens_no_case(app, installation):
    data_dir, ana = installation.data_dir, installation.officer
    shares, public = new_recovery_key(data_dir)
    set_recovery_key(data_dir, "Audit and Risk", public, ana)
    receipt = disclose_to(app.test_client(), details=f"Invoices paid twice. {MARKER}", contact="021 555 0199")
    assert disclose_excluding(app.test_client(), "Ben Other", details="Second.").status_code == 200
    officer = app.test_client()
    assert sign_in(officer, ana).status_code == 303
    links = case_links(officer.get("/console/").text)
    assert post(officer, links[0] + "/notes", note=f"Note {MARKER}").status_code == 303
    discloser = app.test_client()
    assert open_status(discloser, receipt).status_code == 303
    assert officer.get(links[0]).status_code == 200 and 'id="case-status"' in discloser.get("/status").text  # both live

    copy = data_dir.parent / "stolen"
    # database, its write-ahead log, secrets, blobs: everything on the disk (on PostgreSQL the
    # database is read where it is: what its server holds)
    shutil.copytree(data_dir, copy)
    db = database.connect(copy)
    assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] >= 2

    sealed = [row[0] for table in ("case_keys", "internal_keys", "identity_keys", "recovery_copies")
              for row in db.execute(f"SELECT sealed_key FROM {table}")]
    fields = [(case_id, name, ct) for case_id, name, ct in db.execute("SELECT case_id, name, value_ct FROM case_fields")]
    fields += [(case_id, f"identity:{name}", ct) for case_id, name, ct in
               db.execute("SELECT case_id, name, value_ct FROM identity_fields")]
    fields += [(case_id, "exclusions", ct) for case_id, ct in
               db.execute("SELECT id, exclusions_ct FROM cases WHERE exclusions_ct IS NOT NULL")]
    # The recipients of the sealed keys: every officer, every discloser and the channel's recovery key.
    recipients = {row[0] for row in db.execute("SELECT public_key FROM accounts UNION SELECT discloser_public_key "
                                               "FROM cases UNION SELECT recovery_public_key FROM channels "
                                               "WHERE recovery_public_key IS NOT NULL")}
    db.close()
    assert len(sealed) >= 8 and len(fields) >= 8

    # Positive control: the right secrets do open them, so the search below could succeed.
    ctx = open_context(data_dir)
    ana_key = crypto.unwrap_private_key(
        ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE email = ?", [ana.email]).fetchone()[0],
        ana.passphrase)
    recovery_key = crypto.recovery_private_key(shares[:3])
    assert {nacl.bindings.crypto_scalarmult_base(k) for k in (ana_key, recovery_key)} <= recipients
    opened = [crypto.open_sealed(recovery_key, s) for s in sealed if opens(recovery_key, s)]
    assert any(_decrypts(k, fields) for k in opened)

    tried = candidates(copy)
    assert len(tried) > 1000
    for value in tried:
        # As a case, officers-only or identity key.
        assert not _decrypts(value, fields)
        # As the private key of any recipient of a sealed key (a sealed box opens only for its recipient's key).
        assert nacl.bindings.crypto_scalarmult_base(value) not in recipients
    # And directly against each sealed key, for the values stored in the database's key-like columns.
    for value in {v for v in tried if v in set(_key_cells(copy))}:
        assert not any(opens(value, s) for s in sealed)


def _decrypts(key: bytes, fields) -> bool:
    for case_id, name, ct in fields:
        try:
            crypto.decrypt_field(key, case_id, name, ct)
            return True
        except crypto.DecryptionError:
            continue
    return False


def _key_cells(copy) -> list[bytes]:
    db = database.connect(copy)
    cells = [row[0] for row in db.execute("SELECT public_key FROM accounts UNION ALL SELECT server_half FROM sessions "
                                          "UNION ALL SELECT discloser_public_key FROM cases")]
    db.close()
    return [c for c in cells if isinstance(c, bytes)] + [w for c in cells if isinstance(c, bytes) for w in windows(c)]
