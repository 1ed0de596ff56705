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
from tests.support.sealing import b64, disclose_sealed, status_with_script, unb64


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


def _browser_tries(setup: dict) -> list[tuple[bytes, crypto.KdfParams]]:
    """(salt, cost) in the order static/seal/status.js tries them: the setup's own salt, then
    each of its moved salts, each at every version."""
    receipt = setup["receipt"]
    versions = [crypto.KdfParams(v["params"]["opslimit"], v["params"]["memlimit"]) for v in receipt["versions"]]
    salts = [unb64(receipt["salt"]), *map(unb64, receipt["moved_salts"])]
    return [(salt, params) for salt in salts for params in versions]


def test_a_moved_case_sealed_in_the_browser_is_found_by_its_receipt_through_the_moved_salts(
        installation, monkeypatch):
    data_dir = installation.data_dir
    sealed, sent = disclose_sealed(_client(data_dir), {"category": "fraud", "summary": "s", "details": MARKER})
    assert sent.status_code == 201, sent.text
    here = _client(data_dir)
    # With no case moved here, the setup names no other salt.
    assert here.get("/status/sealed/setup").get_json()["receipt"]["moved_salts"] == []
    came_with = _new_salt(data_dir)
    here = _client(data_dir)
    setup = here.get("/status/sealed/setup").get_json()
    # Under this installation's own salt alone, as the browser tried before, the receipt finds nothing.
    [(own, params)] = _browser_tries(setup)
    lookup = crypto.derive_receipt_identity(sealed.receipt, own, params).lookup_id
    assert status_with_script(here, lookup)[1].status_code == 404

    ctx = open_context(data_dir)
    with transaction(ctx.db):
        receipts.keep_salt_of_moved_case(ctx, sealed.case_id, came_with)
    setup = here.get("/status/sealed/setup").get_json()
    assert setup["receipt"]["moved_salts"] == [b64(came_with)]
    # As the page does: derive at each salt and version in turn, send it, stop at the first that opens.
    lookups = [crypto.derive_receipt_identity(sealed.receipt, salt, params).lookup_id
               for salt, params in _browser_tries(setup)]
    wrong = crypto.derive_receipt_identity(crypto.new_receipt(), came_with, params).lookup_id
    salts = count_salts(monkeypatch)
    answers = [status_with_script(here, lookup)[1] for lookup in lookups]
    assert [a.status_code for a in answers] == [404, 200]
    opened = answers[-1].get_json()
    assert opened["case_id"] == sealed.case_id
    assert crypto.open_sealed(sealed.identity.private_key, unb64(opened["sealed_case_key"])) == sealed.case_key
    # A wrong receipt costs the server no derivation either.
    assert status_with_script(here, wrong)[1].status_code == 404
    assert salts == []

    # Three salts of moved cases are shown as four, the same four at every request: a decoy made
    # from the installation's secret cannot be told from a real salt by asking again.
    others = [secrets.token_bytes(16) for _ in range(2)]
    for _ in others:
        receipt_from(disclose(_client(data_dir)).text)
    with transaction(ctx.db):
        fresh = [case_id for (case_id,) in ctx.db.execute(
            "SELECT id FROM cases WHERE id != ? ORDER BY id", [sealed.case_id])]
        for case_id, other in zip(fresh, others):
            receipts.keep_salt_of_moved_case(ctx, case_id, other)
    shown = here.get("/status/sealed/setup").get_json()["receipt"]["moved_salts"]
    assert len(shown) == 4 and shown == sorted(shown, key=unb64)
    assert {b64(s) for s in [came_with, *others]} < set(shown) and b64(ctx.settings.install_salt) not in shown
    assert _client(data_dir).get("/status/sealed/setup").get_json()["receipt"]["moved_salts"] == shown
