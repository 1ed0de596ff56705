"""Objects sealed before padded sizes (format 1, issue 26) still open under today's code: the
installation in tests/store/data/made-before-house-plan/ holds unpadded fields and an unpadded
attachment blob, and its officer reads both through HTTP."""
from __future__ import annotations

import pytest

import re
import sqlite3

from tests.store.test_upgrade import DETAILS, OFFICER, _copy
from tests.support.console import case_links, sign_in

pytestmark = pytest.mark.sqlite_only(reason="an SQLite data directory made by an old version (PostgreSQL"
                                 " installations come later, by portal migrate-to: test_migrate_to.py)")

EVIDENCE = b"%PDF-1.4 evidence made before the house plan\n"  # as make_before_house_plan.py sent it


def test_fields_and_files_sealed_before_padding_still_open(tmp_path):
    from portal.web.app import create_app

    data_dir = _copy(tmp_path)
    conn = sqlite3.connect(data_dir / "portal.db")
    try:
        versions = {ct[0] for (ct,) in conn.execute("SELECT value_ct FROM case_fields")}
        [(blob,)] = conn.execute("SELECT blob FROM attachments").fetchall()
    finally:
        conn.close()
    old_blob = (data_dir / "blobs" / f"{blob}.blob").read_bytes()
    assert versions == {1} and old_blob[:2] == b"\x01\x04"  # format 1: unpadded
    assert len(old_blob) == 26 + len(EVIDENCE) + 17

    app = create_app(data_dir)
    app.config["TESTING"] = True
    officer = app.test_client()
    assert sign_in(officer, OFFICER).status_code == 303
    [case_url] = case_links(officer.get("/console/").text)
    page = officer.get(case_url)
    assert page.status_code == 200 and DETAILS in page.text
    [link] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', page.text)
    download = officer.get(link.replace("&amp;", "&"))
    assert download.status_code == 200 and download.data == EVIDENCE
