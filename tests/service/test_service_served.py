"""`portal service serve DIR` as its own process: two organisations made by the command line, a
disclosure to each through the served process, each kept in its own organisation's data directory."""
from __future__ import annotations


import pytest

from portal.service.registry import data_dir_of
from tests.conftest import MARKER
from tests.service.test_organisations import make_service
from tests.support import HttpClient, csrf_token, disclosure_fields, files_containing, start_service_server
from tests.support import database

pytestmark = pytest.mark.slow


def references(data_dir) -> list[str]:
    db = database.connect(data_dir)
    try:
        return [ref for (ref,) in db.execute("SELECT ref FROM cases")]
    finally:
        db.close()


def test_a_served_service_keeps_each_organisations_disclosure_in_its_own_directory(tmp_path):
    service = make_service(tmp_path)
    server = start_service_server(service)
    try:
        browser = HttpClient("127.0.0.1", server.port)
        for slug in ("a", "b"):
            form = browser.get(f"/o/{slug}/disclose")
            assert form.status == 200 and f'action="/o/{slug}/disclose"' in form.text
            sent = browser.post_multipart(f"/o/{slug}/disclose",
                                          disclosure_fields(csrf_token(form.text), f"{MARKER} for {slug}"))
            assert sent.status == 200, sent.text
        assert browser.get("/o/zz/disclose").status == 404
        # The operator's pages are served too (sign-in first).
        assert browser.get("/service/console/login").status == 200
    finally:
        log = server.stop()
    [ref_a], [ref_b] = references(data_dir_of(service, "a")), references(data_dir_of(service, "b"))
    assert ref_a != ref_b
    assert files_containing(data_dir_of(service, "b"), ref_a.encode()) == []
    assert files_containing(data_dir_of(service, "a"), ref_b.encode()) == []
    assert files_containing(service, MARKER.encode()) == []
    assert "127.0.0.1" not in log.replace("http://127.0.0.1", "")  # no client address logged
