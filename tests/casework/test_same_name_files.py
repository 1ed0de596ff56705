"""Two files of the same name are told apart in the case page's hidden-details list (new-user review,
issue 25): each entry and its clean-copy button carry the file's number in the list and its size."""
from __future__ import annotations

import re

from tests.intake.test_hidden_details import _case_page, _send


def test_two_files_of_one_name_read_differently_in_the_hidden_details_list(app, installation):
    _send(app.test_client(), [("attachments", "scan.bin", b"\x00\x01 no kind " * 20),
                              ("attachments", "scan.bin", b"\x00\x01 no kind " * 400)])
    officer, case_url = _case_page(app, installation)
    page = officer.get(case_url).text
    details = page[page.index('id="file-details"'):page.index("</section>", page.index('id="file-details"'))]
    entries = re.findall(r'<span class="file-name">scan\.bin</span> <span class="file-which">\(([^)]+)\)</span>', details)
    assert entries == ["file 1, 220 bytes", "file 2, 4 KB"]
    buttons = re.findall(r"<button[^>]*>(Make a clean copy of [^<]+)</button>", details)
    assert buttons == ["Make a clean copy of scan.bin (file 1)", "Make a clean copy of scan.bin (file 2)"]
