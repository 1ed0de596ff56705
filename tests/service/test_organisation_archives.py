"""An organisation leaving a service and coming back (issue 29), through the `portal` command: its
archive sealed to a key it holds and the service does not, erasure that leaves nothing of it on
the service but one audit entry naming its service id, and its restore, after which its officer
reads the case again; the other organisation untouched throughout."""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3

from werkzeug.test import Client

from portal.service.dispatch import service_app
from portal.service.operator import operator_dir
from portal.service.registry import data_dir_of
from tests.conftest import MARKER, add_account, run_cli
from tests.service.test_organisations import portal
from tests.service.test_service_operator import sign_in
from tests.support import csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from
from tests.support.console import ATTACHMENT

SLUG, NAME, CHANNEL, EMAIL = "leaving-agency", "Leaving Agency Aroha", "Harbour Integrity Unit", "ana@leaving.govt.nz"


def digests(folder) -> dict[str, str]:
    """Every file's SHA-256 but the empty lock files (made by whoever first takes a lock)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".lock"}


SERVICE_FILES = ["nowhere", "operator", "organisations", "service.json"]


def service_files(service) -> list[str]:
    """What is at the top of a service directory, but its lock file."""
    return sorted(p.name for p in service.iterdir() if p.suffix != ".lock")


def ok(*args):
    made = portal(*args)
    assert made.exit_code == 0, made.output
    return made.output


def service_with_two(tmp_path):
    service = tmp_path / "service"
    ok("service", "init", str(service), "--insecure-fast-kdf")
    people = {}
    for slug, name, channel, email in ((SLUG, NAME, CHANNEL, EMAIL), ("b", "Board B", "Audit", "ben@b.govt.nz")):
        ok("org", "create", slug, "--name", name, "--service", str(service), "--insecure-fast-kdf")
        run_cli(data_dir_of(service, slug), "channel", "add", channel)
        people[slug] = add_account(data_dir_of(service, slug), "officer", email, "Ana Officer", [channel])
    return service, people


def disclose(client, slug, channel=CHANNEL) -> str:
    form = client.get(f"/o/{slug}/disclose")
    sent = post_multipart(client, f"/o/{slug}/disclose", disclosure_fields(csrf_token(form.text), MARKER, channel),
                          [("attachments", "minutes.pdf", ATTACHMENT)])
    assert sent.status_code == 200, sent.text
    return receipt_from(sent.text)


def reads_the_case(wsgi, officer) -> str:
    """The officer signs in at the organisation and opens its one case; returns its reference."""
    client = Client(wsgi)
    assert sign_in(client, f"/o/{SLUG}", officer).status_code == 303
    ref = re.search(rf'href="/o/{SLUG}/console/cases/([^"/]+)"', client.get(f"/o/{SLUG}/console/").text).group(1)
    page = client.get(f"/o/{SLUG}/console/cases/{ref}")
    assert page.status_code == 200 and MARKER in page.text
    return ref


def service_audit(service) -> list[tuple[str, dict]]:
    db = sqlite3.connect(operator_dir(service) / "portal.db")
    try:
        return [(event, json.loads(detail)) for event, detail in db.execute("SELECT event, detail FROM audit_log")]
    finally:
        db.close()


def test_an_organisation_leaves_with_its_archive_is_erased_to_nothing_and_comes_back(tmp_path):
    service, people = service_with_two(tmp_path)
    wsgi = service_app(service)
    receipt = disclose(Client(wsgi), SLUG)
    disclose(Client(wsgi), "b", "Audit")
    ref = reads_the_case(wsgi, people[SLUG])
    b_dir = data_dir_of(service, "b")
    b_before = digests(b_dir)

    # The organisation makes its archive key on its own machine; the service gets the public half.
    kept = tmp_path / "kept-by-the-organisation"
    kept.mkdir()
    made = ok("org", "archive-key", "--out", str(kept / "archive.key"))
    public = made.splitlines()[-1]
    assert public.startswith("pd-archive-public-1:") and "private" not in public
    archive = kept / "leaving.archive"
    backed = ok("org", "backup", SLUG, "--to", str(archive), "--archive-public-key", public, "--service", str(service))
    assert "1 case(s)" in backed and "1 file(s)" in backed
    # Sealed: nothing of it in the clear in the archive, and nothing of the making left behind.
    for needle in (SLUG, NAME, CHANNEL, EMAIL, ref, MARKER, "portal.db", "SQLite"):
        assert needle.encode() not in archive.read_bytes(), needle
    assert service_files(service) == SERVICE_FILES
    # Another key opens nothing, and without an export or a disposal authority nothing is erased.
    ok("org", "archive-key", "--out", str(tmp_path / "other.key"))
    for refused in (["--archive", str(archive), "--archive-key", str(tmp_path / "other.key")], [],
                    ["--archive", str(archive), "--archive-key", str(kept / "archive.key"),
                     "--disposal-authority", "DA 734"]):
        answer = portal("org", "erase", SLUG, "--service", str(service), "--yes", *refused)
        assert answer.exit_code != 0 and "Traceback" not in answer.output, refused
    assert (data_dir_of(service, SLUG) / "portal.db").is_file()
    # b's archive is not a's export.
    ok("org", "backup", "b", "--to", str(tmp_path / "b.archive"), "--archive-public-key", public,
       "--service", str(service))
    wrong = portal("org", "erase", SLUG, "--service", str(service), "--yes", "--archive", str(tmp_path / "b.archive"),
                   "--archive-key", str(kept / "archive.key"))
    assert wrong.exit_code != 0 and "not one this service made of this organisation" in wrong.output
    assert digests(b_dir) == b_before  # b's backup read b and changed nothing of it

    erased = ok("org", "erase", SLUG, "--service", str(service), "--yes", "--archive", str(archive),
                "--archive-key", str(kept / "archive.key"))
    assert "Erased" in erased
    # Nothing of it anywhere on the service: no file, row or name; the slug is no organisation.
    for needle in (SLUG, NAME, CHANNEL, EMAIL, ref, receipt, MARKER):
        assert files_containing(service, needle.encode()) == [], needle
    assert not data_dir_of(service, SLUG).exists()
    assert ok("org", "list", "--service", str(service)).splitlines() == ["b\tBoard B"]
    unknown = Client(wsgi).get("/o/zz-none/disclose")
    gone = Client(wsgi).get(f"/o/{SLUG}/disclose")  # the running dispatcher forgets it too
    assert gone.status_code == unknown.status_code == 404
    # The service's audit names it by its service id only, from its making to its erasure.
    audit = service_audit(service)
    [(org_id,)] = {(d["organisation"],) for e, d in audit if e == "organisation_erase"}
    assert [e for e, d in audit if d.get("organisation") == org_id] == [
        "organisation_add", "organisation_backup", "organisation_erase"]
    run_cli(operator_dir(service), "audit", "verify")

    # It comes back, from the archive and its key: its officer reads the case, its receipt works.
    restored = ok("org", "restore", "--from", str(archive), "--archive-key", str(kept / "archive.key"),
                  "--service", str(service))
    assert "1 case(s)" in restored
    wsgi = service_app(service)
    assert reads_the_case(wsgi, people[SLUG]) == ref
    client = Client(wsgi)
    page = client.get(f"/o/{SLUG}/status")
    status = client.post(f"/o/{SLUG}/status", data={"csrf_token": csrf_token(page.text), "receipt": receipt})
    assert status.status_code in (200, 303)
    run_cli(data_dir_of(service, SLUG), "audit", "verify")
    assert [e for e, _ in service_audit(service)][-1] == "organisation_restore"
    # b untouched throughout.
    assert digests(b_dir) == b_before


def test_an_archive_opens_on_another_service_and_nowhere_without_its_key(tmp_path):
    service, people = service_with_two(tmp_path)
    receipt = disclose(Client(service_app(service)), SLUG)
    ok("org", "archive-key", "--out", str(tmp_path / "second.key"))
    first = ok("org", "archive-key", "--out", str(tmp_path / "third.key")).splitlines()[-1]
    ok("org", "backup", SLUG, "--to", str(tmp_path / "a.archive"), "--archive-public-key", first,
       "--service", str(service))
    elsewhere = tmp_path / "elsewhere"
    ok("service", "init", str(elsewhere), "--insecure-fast-kdf")
    # Sealed to the third key: the second opens nothing, and a cut or altered archive is refused whole.
    refused = portal("org", "restore", "--from", str(tmp_path / "a.archive"), "--archive-key",
                     str(tmp_path / "second.key"), "--service", str(elsewhere))
    assert refused.exit_code != 0 and "cannot be opened" in refused.output
    whole = (tmp_path / "a.archive").read_bytes()
    for damaged in (whole[:-100], whole[:2000] + bytes([whole[2000] ^ 1]) + whole[2001:]):
        (tmp_path / "damaged.archive").write_bytes(damaged)
        answer = portal("org", "restore", "--from", str(tmp_path / "damaged.archive"), "--archive-key",
                        str(tmp_path / "third.key"), "--service", str(elsewhere))
        assert answer.exit_code != 0 and "Traceback" not in answer.output
    assert ok("org", "list", "--service", str(elsewhere)) == ""
    assert service_files(elsewhere) == SERVICE_FILES
    assert list((elsewhere / "organisations").iterdir()) == []
    # With its key, on the other service and under another slug: the case opens for its officer.
    ok("org", "restore", "--from", str(tmp_path / "a.archive"), "--archive-key", str(tmp_path / "third.key"),
       "--slug", "moved", "--service", str(elsewhere))
    client = Client(service_app(elsewhere))
    assert sign_in(client, "/o/moved", people[SLUG]).status_code == 303
    ref = re.search(r'href="/o/moved/console/cases/([^"/]+)"', client.get("/o/moved/console/").text).group(1)
    assert MARKER in client.get(f"/o/moved/console/cases/{ref}").text
    page = client.get("/o/moved/status")
    assert client.post("/o/moved/status", data={"csrf_token": csrf_token(page.text),
                                                "receipt": receipt}).status_code in (200, 303)
