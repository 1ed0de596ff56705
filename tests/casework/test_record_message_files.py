"""The printable record names the files sent with a message as it names the disclosure's (names only), so
the paper copy does not read as if the discloser's message came with nothing (new-user review)."""
from __future__ import annotations

import re

from tests.support import form_for, post_multipart
from tests.support.workflow import disclose_to, officer_on_case, open_status


def test_the_record_names_the_files_of_each_message(app, installation):
    discloser = app.test_client()
    page = open_status(discloser, disclose_to(discloser))
    fields = [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k != "message"]
    sent = post_multipart(discloser, "/status/reply", fields + [("message", "The minutes are attached.")],
                          [("attachments", "minutes-march.txt", b"Minutes of the March meeting.")])
    assert sent.status_code == 303
    officer, case = officer_on_case(app, installation.officer)
    record = officer.get(case + "/record").text
    message = record[record.index("The minutes are attached."):record.index("Internal notes")]
    assert re.search(r"Files: minutes-march\.txt \(names only; contents not printed\)", message)
    assert "Minutes of the March meeting." not in record
