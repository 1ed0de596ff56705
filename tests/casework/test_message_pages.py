"""Long cases page their messages (issue 23): the officer's case page and the discloser's status page
show the latest MESSAGES_PER_PAGE messages, oldest first, with an "earlier messages" link outside the
reply form that opens a page of its own; the SQL statements a page runs do not grow with the thread."""
from __future__ import annotations

import re

import pytest

from tests.support.counting import counting
from werkzeug.datastructures import MultiDict

from portal.records.case_history import MESSAGES_PER_PAGE
from tests.support import csrf_token, form_for, post_multipart
from tests.support.console import case_links, disclose, sign_in
from tests.support.discloser import open_status
from tests.support.messages import add_messages

LONG = 60  # more than one page


@pytest.fixture
def statements(monkeypatch):
    """Every SQL statement the app's request connections run, as SQLite traces them."""
    with counting(monkeypatch) as counts:
        yield counts.statements


def _case(app, installation, officer, total: int, files: int):
    """A case whose thread holds `total` messages, `files` of them the discloser's replies with a
    file each (posted through the status page); returns (discloser client, receipt, case URL)."""
    discloser = app.test_client()
    known = set(case_links(officer.get("/console/").text))
    receipt = disclose(discloser, files=())
    [case_url] = set(case_links(officer.get("/console/").text)) - known
    add_messages(installation.data_dir, installation.officer, case_url.rsplit("/", 1)[1], total - files)
    assert open_status(discloser, receipt).status_code == 303
    for n in range(files):
        token = csrf_token(discloser.get("/status").text)
        response = post_multipart(discloser, "/status/reply",
                                  [("csrf_token", token), ("message", f"With a file {n}")],
                                  [("attachments", f"file-{n}.txt", b"contents %d" % n)])
        assert response.status_code == 303, response.text
    return discloser, receipt, case_url


def _counted(client, path, statements) -> int:
    client.get(path)  # the first view marks the case seen; count a steady one
    statements.clear()
    response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def _outside_forms(html: str, needle: str) -> bool:
    at = html.index(needle)
    return all(not (m.start() < at < html.index("</form>", m.start()))
               for m in re.finditer(r"<form\b", html))


def _earlier_link(html: str) -> str:
    [link] = re.findall(r'<a href="([^"]+/messages\?before=\d+)" target="_blank" rel="noopener">Earlier messages', html)
    assert _outside_forms(html, link)
    return link.replace("&amp;", "&")


def test_statements_per_page_do_not_grow_with_the_thread(app, installation, statements):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    short = _case(app, installation, officer, 1, files=1)
    long = _case(app, installation, officer, LONG, files=3)
    counts = {}
    for name, (discloser, _, case_url) in (("short", short), ("long", long)):
        counts[name] = (_counted(officer, case_url, statements), _counted(discloser, "/status", statements))
    assert counts["short"] == counts["long"], counts
    # The files of every message on the page are there, read in one query.
    statements.clear()
    page = officer.get(long[2]).text
    assert all(f"file-{n}.txt" in page for n in range(3)) and "Earlier messages" in page
    attachment_queries = [s for s in statements if "FROM attachments" in s and "message_id IN" in s]
    assert len(attachment_queries) == 1, attachment_queries


def test_the_earlier_link_shows_older_messages_and_a_typed_reply_still_posts(app, installation):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    discloser, receipt, case_url = _case(app, installation, officer, LONG, files=0)
    oldest_shown = LONG - MESSAGES_PER_PAGE + 1

    page = officer.get(case_url).text
    assert f"Message number {LONG}." in page and f"Message number {oldest_shown}." in page
    assert f"Message number {oldest_shown - 1}." not in page
    # The latest page reads oldest first, the newest just above the reply form.
    assert page.index(f"Message number {oldest_shown}.") < page.index(f"Message number {LONG}.")
    earlier = officer.get(_earlier_link(page))
    assert earlier.status_code == 200
    assert "Message number 1." in earlier.text and f"Message number {oldest_shown - 1}." in earlier.text
    assert f"Message number {oldest_shown}." not in earlier.text
    assert 'id="later-messages"' in earlier.text and "<form method=\"post\"" not in earlier.text.split("<main")[-1]
    status = discloser.get("/status").text
    assert receipt not in status
    link = _earlier_link(status)
    assert receipt not in link
    older = discloser.get(link)
    assert older.status_code == 200 and "Message number 1." in older.text and receipt not in older.text
    assert f"Message number {oldest_shown}." not in older.text
    # The reply forms on the long page, with whatever hidden fields they carry, still post.
    form = form_for(page, case_url + "/reply")
    fields = [(k, v) for k, v in form["fields"] if k != "message"] + [("message", "Typed beside a long thread")]
    assert officer.post(case_url + "/reply", data=MultiDict(fields)).status_code == 303
    assert "Typed beside a long thread" in officer.get(case_url).text

    form = form_for(status, "/status/reply")
    fields = [(k, v) for k, v in form["fields"] if k != "message"] + [("message", "Typed by the discloser")]
    assert post_multipart(discloser, "/status/reply", fields).status_code == 303
    assert "Typed by the discloser" in discloser.get("/status").text
    # Outside an opened status session the earlier page shows nothing and asks for the receipt.
    stranger = app.test_client().get(link)
    assert stranger.status_code == 303 and stranger.headers["Location"].endswith("/status#thread")


def test_pages_chain_back_to_the_first_message_and_forward_to_the_latest(app, installation):
    from portal.core.context import open_context
    from portal.records import case_history, casefiles
    from tests.conftest import officer_key
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    _, _, case_url = _case(app, installation, officer, 8, files=0)
    ctx = open_context(installation.data_dir)
    account, private_key = officer_key(ctx, installation.officer)
    case = casefiles.get_case(ctx, ref=case_url.rsplit("/", 1)[1])
    key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)

    def page(before):
        found = case_history.read_message_page(ctx, case.id, key, before, per_page=3)
        return [m.seq for m in found.messages], found.earlier, found.later, found.latest

    # The keys are not 1, 2, 3 ... (they sort by day, then keep no order within it for the
    # discloser's messages): page by the n-th message's key.
    k = [None] + [m.seq for m in case_history.read_messages(ctx, case.id, key)]
    assert [m.body for m in case_history.read_messages(ctx, case.id, key)] == [
        f"Message number {n}." for n in range(1, 9)]
    assert page(None) == ([k[6], k[7], k[8]], k[6], None, True)
    assert page(k[6]) == ([k[3], k[4], k[5]], k[3], None, False)  # the next later page is the latest
    assert page(k[3]) == ([k[1], k[2]], None, k[6], False)
    assert page(k[1]) == ([], None, k[4], False)


def test_a_before_too_large_for_sqlite_leads_to_the_first_page_not_a_500(app, installation):
    """`before` past 2**63 (an INTEGER's limit) once raised OverflowError (review L1): both pages
    send it back to the latest messages, as they do for a missing or non-numeric one."""
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    discloser, _, case_url = _case(app, installation, officer, 3, files=0)
    huge = "99999999999999999999999"
    for client, path, latest in ((discloser, "/status/messages", "/status#thread"),
                                 (officer, case_url + "/messages", case_url + "#thread")):
        for before in (huge, "-5", "abc", "0"):
            response = client.get(f"{path}?before={before}")
            assert response.status_code == 303, (path, before, response.status_code)
            assert response.headers["Location"].endswith(latest)
        assert client.get(latest.split("#")[0]).status_code == 200
