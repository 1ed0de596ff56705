"""Proof of disclosure: the signed acknowledgement, `portal signing-key` and `portal verify-ack`."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import crypto
from portal.casework import acknowledgements
from portal.cli import main as portal_cli
from portal.core.installation_file import INSTALLATION_FILE
from tests.conftest import MARKER, run_cli
from tests.support.workflow import disclose_to, officer_on_case, open_status, post, today  # noqa: F401

CONTACT = "call me on 021 555 0199, jo@example.org"


def verify(path, *args):
    return CliRunner().invoke(portal_cli, ["verify-ack", str(path), *args])


@pytest.fixture
def acknowledged(app, installation, today, tmp_path):
    """A disclosure with contact details, acknowledged by its officer; the discloser's status client."""
    today.set("2026-03-02")
    discloser = app.test_client()
    receipt = disclose_to(discloser, details=f"Invoices paid twice. {MARKER}", contact=CONTACT)
    before = open_status(discloser, receipt)
    assert 'id="acknowledgement"' not in before
    assert discloser.get("/status/acknowledgement").status_code == 404
    today.set("2026-03-04")
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    return discloser, receipt, case.rsplit("/", 1)[1]


def test_the_discloser_downloads_a_signed_acknowledgement_that_verifies_offline(acknowledged, installation, tmp_path):
    discloser, receipt, ref = acknowledged
    assert 'id="proof-link"' in discloser.get("/status").text
    page = discloser.get("/status/proof").text  # the proof of disclosure, behind its own link
    assert 'id="acknowledgement"' in page
    salt = re.search(r'id="commitment-salt" class="key">([0-9a-f]{64})<', page).group(1)
    response = discloser.get("/status/acknowledgement")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.data
    statement = json.loads(data)["statement"]
    assert statement["case_ref"] == ref and statement["channel"] == "Audit and Risk"
    assert statement["received_day"] == "2026-03-02" and statement["acknowledged_day"] == "2026-03-04"
    # Nothing that identifies the discloser, and nothing of the text in clear.
    compact = receipt.replace("-", "").encode()
    for secret in (receipt.encode(), compact, b"021 555 0199", b"jo@example.org", MARKER.encode(), salt.encode()):
        assert secret not in data
    path = tmp_path / "ack.json"
    path.write_bytes(data)
    key = run_cli(installation.data_dir, "signing-key").output.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    # Offline, with the published key and no data directory at all.
    result = verify(path, "--key", key)
    assert result.exit_code == 0, result.output
    assert f"case_ref: {ref}" in result.output
    # With the installation's own key.
    assert run_cli(installation.data_dir, "verify-ack", str(path)).exit_code == 0
    # The salt shown to the discloser opens the commitment with the text as sent, and not a guess.
    parts = ["protected-disclosure-text/1", "public_funds", "Payments to a director's company",
             f"Invoices paid twice. {MARKER}", "no"]
    assert acknowledgements.check_opening(statement, salt, parts)
    assert not acknowledgements.check_opening(statement, salt, parts[:3] + ["Invoices paid once.", "no"])
    # The public page shows the same key.
    assert key in discloser.get("/signing-key").text


def test_any_changed_byte_fails_verification(acknowledged, installation, tmp_path):
    discloser, _, _ = acknowledged
    data = discloser.get("/status/acknowledgement").data
    key = run_cli(installation.data_dir, "signing-key").output.strip()
    path = tmp_path / "ack.json"
    for i in range(len(data)):
        for changed in (data[i] ^ 0x01, data[i] ^ 0x20):
            path.write_bytes(data[:i] + bytes([changed]) + data[i + 1:])
            result = verify(path, "--key", key)
            assert result.exit_code != 0, f"byte {i} changed to {changed:#x} still verified"
    for cut in (data[:-1], data + b"\n", b" " + data, data.replace(b":", b": ", 1)):
        path.write_bytes(cut)
        assert verify(path, "--key", key).exit_code != 0
    # Signed by another key (a forged file with its own key inside) fails against the published key.
    forged = crypto.sign_acknowledgement(crypto.new_signing_key(), json.loads(data)["statement"])
    path.write_bytes(forged)
    result = verify(path, "--key", key)
    assert result.exit_code == 1 and "different key" in result.output
    # Without a key to check against (no --key, no installation here), intact is never called genuine.
    result = CliRunner().invoke(portal_cli, ["--data", str(tmp_path / "nowhere"), "verify-ack", str(path)])
    assert result.exit_code == 3 and "INTACT, SIGNER NOT CHECKED" in result.output
    assert "GENUINE" not in result.output.replace("NOT GENUINE", "")
    assert verify(path, "--key", "zz").exit_code == 2


def test_an_installation_made_before_signing_gets_its_key_at_start_up(installation):
    path = installation.data_dir / INSTALLATION_FILE
    document = json.loads(path.read_text())
    first = run_cli(installation.data_dir, "signing-key").output.strip()
    del document["signing_key"]
    path.write_text(json.dumps(document))
    second = run_cli(installation.data_dir, "signing-key").output.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", second) and second != first
    assert run_cli(installation.data_dir, "signing-key").output.strip() == second  # kept, not made again
    assert "signing_key" in json.loads(path.read_text())
    assert path.stat().st_mode & 0o077 == 0


def acknowledged_with_a_file(app, installation, today):
    """A disclosure with one file (ATTACHMENT, as evidence.pdf), acknowledged: the discloser's status
    client, their status page and the checking code it shows."""
    from tests.support import receipt_from
    from tests.support.discloser import disclose

    today.set("2026-03-02")
    discloser = app.test_client()
    receipt = receipt_from(disclose(discloser, "What I saw.").text)
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    open_status(discloser, receipt)
    page = discloser.get("/status/proof").text
    return discloser, page, re.search(r'id="commitment-salt" class="key">([0-9a-f]{64})<', page).group(1)


def test_the_commitment_covers_the_files_contents(app, installation, today):
    import hashlib

    from tests.support.discloser import ATTACHMENT

    discloser, _, salt = acknowledged_with_a_file(app, installation, today)
    statement = json.loads(discloser.get("/status/acknowledgement").data)["statement"]
    text = ["protected-disclosure-text/1", "public_funds", "Payments to a director's company", "What I saw.", "no"]
    file = ["evidence.pdf", "application/octet-stream", str(len(ATTACHMENT))]
    assert acknowledgements.check_opening(statement, salt, text + file + [hashlib.sha256(ATTACHMENT).hexdigest()])
    assert not acknowledgements.check_opening(statement, salt, text + file + [hashlib.sha256(b"other").hexdigest()])


def test_verify_ack_checks_a_disclosures_text_and_files_with_the_checking_code(app, installation, today, tmp_path):
    """`portal verify-ack --opening`: a lawyer given the text, a copy of each file and the checking code
    confirms offline that they are the disclosure as received; a changed word, file or code does not."""
    from tests.support.discloser import ATTACHMENT

    discloser, page, salt = acknowledged_with_a_file(app, installation, today)
    (tmp_path / "ack.json").write_bytes(discloser.get("/status/acknowledgement").data)
    (tmp_path / "evidence.pdf").write_bytes(ATTACHMENT)
    key = run_cli(installation.data_dir, "signing-key").output.strip()
    text = {"category": "public_funds", "summary": "Payments to a director's company", "details": "What I saw.",
            "disclosed_elsewhere": "no"}

    def check(opening, code=salt):
        (tmp_path / "opening.json").write_text(json.dumps(opening))
        return CliRunner().invoke(portal_cli, ["verify-ack", str(tmp_path / "ack.json"), "--key", key, "--opening",
                                               str(tmp_path / "opening.json"), "--checking-code-stdin"],
                                  input=code + "\n")

    by_path = {**text, "files": [{"name": "evidence.pdf", "type": "application/octet-stream", "path": "evidence.pdf"}]}
    result = check(by_path)
    assert result.exit_code == 0 and "MATCHES" in result.output, result.output
    import hashlib
    by_digest = {**text, "files": [{"name": "evidence.pdf", "type": "application/octet-stream",
                                    "size": len(ATTACHMENT), "sha256": hashlib.sha256(ATTACHMENT).hexdigest()}]}
    assert check(by_digest).exit_code == 0
    # The proof page gives the discloser the opening to hand over: all but their own words filled in.
    import html
    template = json.loads(html.unescape(re.search(r'<pre id="opening"[^>]*>(.*?)</pre>', page, re.S).group(1)))
    assert template["summary"] == "YOUR TITLE, EXACTLY AS SENT" and "What I saw." not in json.dumps(template)
    assert check({**template, "summary": text["summary"], "details": text["details"]}).exit_code == 0
    assert check(template).exit_code == 1
    for wrong in ({**by_path, "details": "What I saw!"}, {**text, "files": []},
                  {**by_path, "files": [{**by_path["files"][0], "name": "other.pdf"}]}):
        result = check(wrong)
        assert result.exit_code == 1 and "DOES NOT MATCH" in result.output
    assert check(by_path, code="0" * 64).exit_code == 1
    assert check(by_path, code="not hex").exit_code == 1
    (tmp_path / "evidence.pdf").write_bytes(ATTACHMENT + b"x")
    assert check(by_path).exit_code == 1
    # A malformed opening is a usage error that says what is wrong, never a trace.
    for bad, says in (({"category": "public_funds"}, '"summary" must be given'),
                      ({**text, "files": [{"name": "a", "type": "b"}]}, 'needs "path", or "size" and "sha256"'),
                      ({**text, "files": [{"name": "a", "type": "b", "path": "missing.pdf"}]}, "cannot be read"),
                      ({**text, "files": [{"name": "a", "type": "b", "path": "/dev/zero"}]}, "cannot be read"),
                      ({**text, "files": [{"name": "a", "type": "b", "path": "."}]}, "cannot be read"),
                      ({**text, "summary": [[[[]]]] * 1}, '"summary" must be given'),
                      ([], "must be a JSON object")):
        result = check(bad)
        assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output, result.output
    (tmp_path / "opening.json").write_text("{not json")
    result = CliRunner().invoke(portal_cli, ["verify-ack", str(tmp_path / "ack.json"), "--key", key, "--opening",
                                             str(tmp_path / "opening.json"), "--checking-code-stdin"], input=salt)
    assert result.exit_code == 2 and "--opening" in result.output
    (tmp_path / "opening.json").write_text("[" * 100_000 + "]" * 100_000)
    result = CliRunner().invoke(portal_cli, ["verify-ack", str(tmp_path / "ack.json"), "--key", key, "--opening",
                                             str(tmp_path / "opening.json"), "--checking-code-stdin"], input=salt)
    assert result.exit_code == 2 and "nested too deeply" in result.output, result.output
    # With no key to trust, a match would prove nothing: refused.
    result = CliRunner().invoke(portal_cli, ["verify-ack", str(tmp_path / "ack.json"), "--opening",
                                             str(tmp_path / "opening.json"), "--checking-code-stdin"], input=salt)
    assert result.exit_code == 2 and "--opening needs --key" in result.output
