"""Files meant for another program open correctly there: CSV as UTF-8 with a byte-order mark (Excel),
every text download with its character set declared (docs/interface.md)."""
from __future__ import annotations

import csv
import io

from tests.conftest import add_account, run_cli
from tests.support import csrf_token
from tests.support.console import case_links, disclose
from tests.support.enrolment import sign_in

MACRONS = "Manatū Hauora"


def test_the_audit_log_csv_shows_a_channel_named_with_macrons_as_written(app, installation):
    run_cli(installation.data_dir, "channel", "add", MACRONS)
    officer = add_account(installation.data_dir, "officer", "mere@agency.govt.nz", "Mere Tāne", [MACRONS])
    client = app.test_client()
    assert sign_in(client, officer).status_code == 303
    asked = client.post("/console/audit/export", data={"csrf_token": csrf_token(client.get("/console/audit").text)})
    export = client.post("/console/audit/export", data={"csrf_token": csrf_token(asked.text),
                                                        "confirm_passphrase": officer.passphrase})
    assert export.status_code == 200 and export.content_type == "text/csv; charset=utf-8"
    assert export.data.startswith(b"\xef\xbb\xbf")
    cells = [c for row in csv.reader(io.StringIO(export.data.decode("utf-8-sig"))) for c in row]
    assert "Mere Tāne" in cells  # the officer's own sign-in, by name, as written


def test_the_printable_record_declares_its_character_set(app, installation):
    client = app.test_client()
    disclose(client)
    assert sign_in(client, installation.officer).status_code == 303
    [case_url] = case_links(client.get("/console/").text)
    record = client.get(case_url + "/record")
    assert record.status_code == 200 and record.content_type == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in record.text
