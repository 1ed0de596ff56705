"""A receipt of a case moved here from another organisation (issue 29, "Machinery-of-government
changes"; migration 44): found under the salt of the installation it came from, kept with the case,
after this installation's own salt. Here the installation's salt is changed after the disclosure,
so the case stands exactly as a moved one does: its receipt was derived under a salt that is not
this installation's."""
from __future__ import annotations

import json
import secrets

import crypto
import pytest
from portal.core.context import open_context
from portal.intake import receipts
from portal.store import transaction
from portal.web.app import create_app
from tests.conftest import MARKER
from tests.support import receipt_from
from tests.support.discloser import disclose, open_status


def count_salts(monkeypatch) -> list[bytes]:
    """The salt of every receipt derivation from now on, in order."""
    import crypto.kdf
    calls, real = [], crypto.kdf.argon2id

    def counting(secret, salt, params, *args, **kwargs):
        calls.append(bytes(salt))
        return real(secret, salt, params, *args, **kwargs)

    monkeypatch.setattr(crypto.kdf, "argon2id", counting)
    return calls


def _client(data_dir):
    app = create_app(data_dir)
    app.config["TESTING"] = True
    return app.test_client()


def _new_salt(data_dir) -> bytes:
    """Give the installation another salt (as the receiving organisation's differs from the
    sender's); returns the one its receipts so far were derived under."""
    path = data_dir / "installation.json"
    document = json.loads(path.read_text())
    old = bytes.fromhex(document["install_salt"])
    document["install_salt"] = secrets.token_hex(16)
    path.write_text(json.dumps(document))
    return old


def test_a_moved_cases_receipt_opens_it_under_the_salt_it_came_with(installation, monkeypatch):
    data_dir = installation.data_dir
    receipt = receipt_from(disclose(_client(data_dir)).text)
    came_with = _new_salt(data_dir)
    here = _client(data_dir)
    # Without the salt it came with, its receipt opens nothing here.
    assert "We could not open a disclosure" in open_status(here, receipt).text

    ctx = open_context(data_dir)
    (case_id,) = ctx.db.execute("SELECT id FROM cases").fetchone()
    with pytest.raises(ValueError):
        receipts.keep_salt_of_moved_case(ctx, case_id, b"short")
    with transaction(ctx.db):
        receipts.keep_salt_of_moved_case(ctx, case_id, came_with)
    assert receipts.salt_of_case(ctx, case_id) == came_with

    salts = count_salts(monkeypatch)
    assert open_status(here, receipt).status_code == 303
    assert MARKER in here.get("/status").text
    # This installation's own salt first, then the one the case came with.
    assert salts == [ctx.settings.install_salt, came_with]

    # A case received here after the move is found under the installation's own salt alone.
    fresh = receipt_from(disclose(_client(data_dir)).text)
    salts.clear()
    assert open_status(_client(data_dir), fresh).status_code == 303
    assert salts == [ctx.settings.install_salt]
    # A wrong receipt costs one derivation per salt, and opens nothing.
    salts.clear()
    assert "We could not open a disclosure" in open_status(_client(data_dir), crypto.new_receipt()).text
    assert salts == [ctx.settings.install_salt, came_with]

    # The salt goes with its case.
    with transaction(ctx.db):
        ctx.db.execute("DELETE FROM cases WHERE id = ?", [case_id])
    assert ctx.db.execute("SELECT COUNT(*) FROM case_receipt_salts").fetchone()[0] == 0
    assert receipts.receipt_salts(ctx) == (ctx.settings.install_salt,)
