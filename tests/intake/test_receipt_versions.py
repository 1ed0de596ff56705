"""Receipt versions (issue 27; SECURITY.md, "Argon2id parameters"): every new receipt is made at
the current version, whose cost the setup JSON gives the browser, and a receipt made at version 1
(ops 2, 64 MiB, before version 2) still opens, with script and without. The tests' installation
keeps its explicit fast KDF for the current version; version 1 is the shipped one."""
from __future__ import annotations

import json

import crypto
from portal.core.config import load_settings
from portal.core.installation_file import create_installation
from portal.core.context import open_context
from portal.intake import receipts
from portal.web.app import create_app
from tests.support import receipt_from
from tests.support.discloser import disclose, open_status
from tests.support.sealing import disclose_sealed, status_with_script, unb64

V1 = crypto.RECEIPT_VERSIONS[1]
VALUES = {"category": "public_funds", "summary": "Payments to a director's company",
          "details": "The director approved invoices from a company he owns.",
          "disclosed_elsewhere": "no", "contact": "", "identifying": ""}


def _as_before_version_2(data_dir):
    """The installation file as the portal wrote it before version 2 (only "receipt_kdf", the
    cost of every receipt it made, here the shipped version 1), and a client of the portal as it
    was then, making its receipts at that cost."""
    path = data_dir / "installation.json"
    document = json.loads(path.read_text())
    del document["receipt_kdf_v2"]
    document["receipt_kdf"] = {"opslimit": V1.opslimit, "memlimit": V1.memlimit}
    path.write_text(json.dumps(document))
    then = create_app(settings=load_settings(data_dir, receipt_params=V1, older_receipt_params=()))
    then.config["TESTING"] = True
    return then.test_client()


def _client_now(data_dir):
    app = create_app(data_dir)
    app.config["TESTING"] = True
    return app.test_client()


def _count_derivations(monkeypatch) -> list:
    import crypto.kdf
    calls, real = [], crypto.kdf.argon2id

    def counting(secret, salt, params, *args, **kwargs):
        calls.append(params)
        return real(secret, salt, params, *args, **kwargs)

    monkeypatch.setattr(crypto.kdf, "argon2id", counting)
    return calls


def test_the_setups_give_the_browser_each_versions_parameters(client, installation):
    settings = open_context(installation.data_dir).settings
    # The test configuration's fast KDF is explicit, for the current version only.
    assert settings.receipt_version == 2 and settings.receipt_params == crypto.FAST_TEST_PARAMS
    assert settings.older_receipt_params == ()
    fast = {"opslimit": crypto.FAST_TEST_PARAMS.opslimit, "memlimit": crypto.FAST_TEST_PARAMS.memlimit}
    sealing = client.get("/disclose/sealed/setup").get_json()["receipt"]
    assert sealing == {"version": 2, "salt": sealing["salt"], "params": fast}
    assert unb64(sealing["salt"]) == settings.install_salt
    status = client.get("/status/sealed/setup").get_json()["receipt"]
    # No case moved in from another organisation: no moved salts (tests/service/test_moved_receipts.py).
    assert status == {"salt": sealing["salt"], "versions": [{"version": 2, "params": fast}],
                      "moved_salts": []}

    before = _as_before_version_2(installation.data_dir)
    del before
    status = _client_now(installation.data_dir).get("/status/sealed/setup").get_json()["receipt"]
    assert status["versions"] == [{"version": 2, "params": fast},
                                  {"version": 1, "params": {"opslimit": 2, "memlimit": 64 * 2**20}}]


def test_a_shipped_installation_makes_version_2_receipts_and_one_from_before_still_opens_version_1(tmp_path):
    made_now = tmp_path / "now"
    create_installation(made_now)
    document = json.loads((made_now / "installation.json").read_text())
    assert "receipt_kdf" not in document  # a new installation has no version-1 receipts to try
    settings = load_settings(made_now)
    assert (settings.receipt_version, settings.receipt_params) == (2, crypto.RECEIPT_V2_PARAMS)
    assert settings.older_receipt_params == ()
    assert receipts.receipt_versions(settings) == ((2, crypto.KdfParams(1, 32 * 2**20)),)

    # An installation made before version 2 names only "receipt_kdf": new receipts move to
    # version 2 at its shipped cost, and version 1's stays for the receipts made before.
    del document["receipt_kdf_v2"]
    document["receipt_kdf"] = {"opslimit": 2, "memlimit": 64 * 2**20}
    (made_now / "installation.json").write_text(json.dumps(document))
    settings = load_settings(made_now)
    assert receipts.receipt_versions(settings) == ((2, crypto.RECEIPT_V2_PARAMS), (1, crypto.RECEIPT_PARAMS))


def test_a_receipt_the_server_made_before_version_2_still_opens_without_script(installation, monkeypatch):
    then = _as_before_version_2(installation.data_dir)
    answer = disclose(then, details="made at version 1")
    assert answer.status_code == 200, answer.text
    old_receipt = receipt_from(answer.text)

    now = _client_now(installation.data_dir)
    derivations = _count_derivations(monkeypatch)
    assert open_status(now, old_receipt).status_code == 303
    # The current version first (it opens nothing), then version 1, which opens the case.
    assert derivations == [crypto.FAST_TEST_PARAMS, V1]
    assert 'data-status="received"' in now.get("/status").text

    # A new receipt is made at the current version and opens at the first derivation.
    answer = disclose(now, details="made at version 2")
    new_receipt = receipt_from(answer.text)
    derivations.clear()
    assert open_status(now.application.test_client(), new_receipt).status_code == 303
    assert derivations == [crypto.FAST_TEST_PARAMS]
    # A wrong receipt costs one derivation per version, and opens nothing.
    derivations.clear()
    assert "We could not open a disclosure" in open_status(now, crypto.new_receipt()).text
    assert derivations == [crypto.FAST_TEST_PARAMS, V1]


def test_a_receipt_sealed_in_the_browser_before_version_2_opens_with_script(installation):
    then = _as_before_version_2(installation.data_dir)
    sealed, answer = disclose_sealed(then, VALUES)  # the browser derived it at version 1's cost
    assert answer.status_code == 201, answer.text
    assert sealed.identity == crypto.derive_receipt_identity(sealed.receipt, open_context(
        installation.data_dir).settings.install_salt, V1)

    # The status page with script tries each version the setup lists, in its order.
    now = _client_now(installation.data_dir)
    setup = now.get("/status/sealed/setup").get_json()
    answers = []
    for version in setup["receipt"]["versions"]:
        params = crypto.KdfParams(version["params"]["opslimit"], version["params"]["memlimit"])
        lookup = crypto.derive_receipt_identity(sealed.receipt, unb64(setup["receipt"]["salt"]), params).lookup_id
        answers.append(status_with_script(now, lookup)[1])  # each check with its own setup
    assert [a.status_code for a in answers] == [404, 200]
    assert answers[1].get_json()["case_id"] == sealed.case_id
    # Without script too.
    assert open_status(now.application.test_client(), sealed.receipt).status_code == 303
