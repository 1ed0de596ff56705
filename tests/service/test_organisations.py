"""Many organisations on one installation (issue 29, first slice): the service directory made and
listed through the `portal` command, and the dispatcher serving each organisation's own portal under
/o/<slug>/ through werkzeug's test client."""
from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from portal.cli import main as portal_cli
from portal.service.dispatch import service_app
from portal.service.registry import ServiceError, data_dir_of
from tests.conftest import MARKER, add_account, run_cli
from tests.support import csrf_token, disclosure_fields, files_containing, post_multipart, receipt_from
from tests.support import database


def portal(*args: str):
    return CliRunner().invoke(portal_cli, list(args))


def make_service(tmp_path):
    service = tmp_path / "service"
    assert portal("service", "init", str(service), "--insecure-fast-kdf").exit_code == 0
    for slug, name in (("a", "Agency A"), ("b", "Board B")):
        made = portal("org", "create", slug, "--name", name, "--service", str(service), "--insecure-fast-kdf")
        assert made.exit_code == 0, made.output
        data_dir = data_dir_of(service, slug)
        run_cli(data_dir, "channel", "add", "Audit and Risk")
        add_account(data_dir, "officer", f"ana@{slug}.govt.nz", "Ana Officer", ["Audit and Risk"])
    return service


def table_counts(data_dir) -> dict[str, int]:
    db = database.connect(data_dir)
    try:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}
    finally:
        db.close()


def test_organisations_are_made_and_listed_by_slug_and_name_only(tmp_path):
    service = tmp_path / "service"
    assert portal("service", "init", str(service), "--insecure-fast-kdf").exit_code == 0
    assert "already" in portal("service", "init", str(service)).output
    for slug, name in (("north-council", "North Council"), ("school-7", "School Board 7")):
        made = portal("org", "create", slug, "--name", name, "--service", str(service), "--insecure-fast-kdf")
        assert made.exit_code == 0, made.output
        # Each data directory is an ordinary installation: the single-installation commands run on it.
        run_cli(data_dir_of(service, slug), "channel", "add", "Audit")
        assert (data_dir_of(service, slug) / "installation.json").is_file()
    taken = portal("org", "create", "school-7", "--name", "Again", "--service", str(service))
    assert taken.exit_code != 0 and "already an organisation" in taken.output
    bad = portal("org", "create", "Bad Slug", "--name", "X", "--service", str(service))
    assert bad.exit_code != 0 and "lower-case" in bad.output
    listed = portal("org", "list", "--service", str(service))
    assert listed.exit_code == 0
    assert listed.output.splitlines() == ["north-council\tNorth Council", "school-7\tSchool Board 7"]
    assert portal("org", "list", "--service", str(tmp_path / "none")).exit_code != 0


def test_a_disclosure_to_one_organisation_reaches_nothing_of_the_other(tmp_path):
    service = make_service(tmp_path)
    client = Client(service_app(service))

    form = client.get("/o/a/disclose")
    assert form.status_code == 200
    # One browser, two organisations at once: b's form does not take the place of a's cookies.
    assert client.get("/o/b/disclose").status_code == 200
    b_before = table_counts(data_dir_of(service, "b"))
    # url_for knows where the organisation is: the form posts back under /o/a/.
    assert 'action="/o/a/disclose"' in form.text
    fields = disclosure_fields(csrf_token(form.text), MARKER)
    sent = post_multipart(client, "/o/a/disclose", fields, [("attachments", "evidence.txt", MARKER.encode())])
    assert sent.status_code == 200, sent.text
    receipt = receipt_from(sent.text)

    b_dir = data_dir_of(service, "b")
    assert table_counts(b_dir) == b_before
    a_db = sqlite3.connect(data_dir_of(service, "a") / "portal.db")
    [(ref,)] = a_db.execute("SELECT ref FROM cases").fetchall()
    a_db.close()
    assert table_counts(b_dir)["cases"] == 0
    # Nothing of it in b's directory, in the clear (the reference) or sealed (no blob at all); and a
    # keeps the discloser's words sealed.
    assert files_containing(b_dir, ref.encode()) == []
    assert [p for p in (b_dir / "blobs").rglob("*") if p.is_file()] == []
    assert files_containing(data_dir_of(service, "a"), MARKER.encode()) == []

    # The receipt opens the case at a, and is unknown at b; b's pages show nothing of it.
    def status(slug):
        page = client.get(f"/o/{slug}/status")
        return client.post(f"/o/{slug}/status", data={"csrf_token": csrf_token(page.text), "receipt": receipt})

    assert status("a").status_code in (200, 303)
    refused = status("b")
    assert refused.status_code == 400 and "We could not open a disclosure with that code" in refused.text
    for path in ("/o/b/", "/o/b/disclose", "/o/b/status"):
        page = client.get(path)
        assert page.status_code == 200 and ref not in page.text and MARKER not in page.text


def test_an_unknown_organisation_is_answered_as_a_page_that_never_existed(tmp_path):
    service = make_service(tmp_path)
    client = Client(service_app(service))
    known = client.get("/o/a/no-such-page")
    assert known.status_code == 404
    for path in ("/o/zz/no-such-page", "/o/zz/disclose", "/o/zz/", "/o/a-b/status", "/o/nowhere/"):
        unknown = client.get(path)
        assert unknown.status_code == 404
        # The same page, headers and links, but for the organisation's place in the links.
        slug = path.split("/")[2]
        assert unknown.text.replace(f"/o/{slug}/", "/o/?/") == known.text.replace("/o/a/", "/o/?/")
        def headers(response):  # the length differs with the slug's
            return sorted((k, v) for k, v in response.headers.items() if k != "Content-Length")

        assert headers(unknown) == headers(known)
        assert "Set-Cookie" not in unknown.headers


def test_each_organisation_app_is_made_at_its_first_request_and_kept(tmp_path, monkeypatch):
    from portal.service import dispatch

    service = make_service(tmp_path)
    made = []

    def counted(data_dir, **settings):
        made.append(data_dir)
        return create_app(data_dir, **settings)

    create_app = dispatch.create_app
    monkeypatch.setattr(dispatch, "create_app", counted)
    client = Client(service_app(service))
    assert made == []
    for _ in range(3):
        assert client.get("/o/a/").status_code == 200
    assert made == [data_dir_of(service, "a")]
    assert client.get("/o/b/status").status_code == 200 and client.get("/o/b/").status_code == 200
    assert made == [data_dir_of(service, "a"), data_dir_of(service, "b")]
    # An organisation made while the service runs is served without a restart.
    assert portal("org", "create", "c", "--name", "C", "--service", str(service), "--insecure-fast-kdf").exit_code == 0
    assert client.get("/o/c/").status_code == 200
    assert made[-1] == data_dir_of(service, "c")


def test_a_service_refuses_one_database_shared_by_every_organisation(tmp_path, monkeypatch):
    """PORTAL_DATABASE_URL names one database for the process: under a service every member would
    share it, so making, growing and serving a service refuse it in one plain line."""
    service = make_service(tmp_path)
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql:///nowhere")
    refused = "runs on SQLite only for now"
    made = portal("service", "init", str(tmp_path / "other"), "--insecure-fast-kdf")
    assert made.exit_code != 0 and refused in made.output and not (tmp_path / "other").exists()
    added = portal("org", "create", "c", "--name", "Council C", "--service", str(service),
                   "--insecure-fast-kdf")
    assert added.exit_code != 0 and refused in added.output
    assert not (service / "organisations" / "c").exists()
    with pytest.raises(ServiceError, match=refused):
        Client(service_app(service)).get("/o/a/")
