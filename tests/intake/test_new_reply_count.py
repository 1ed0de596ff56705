"""The discloser's count of new messages (issue 25): every officer's message since the discloser last
wrote, counted in full, not only those of the latest page of the thread."""
from __future__ import annotations

from portal.core.context import open_context
from portal.intake import case_status
from portal.records import case_history
from tests.support import csrf_token, post_multipart
from tests.support.workflow import disclose_to, officer_on_case, open_status, post


def test_new_replies_are_counted_beyond_the_page_shown(app, installation, monkeypatch):
    # Pages of 3 messages (before=None, per_page=3), so that 5 replies overflow the latest page.
    monkeypatch.setattr(case_history.read_message_page, "__defaults__", (None, 3))
    receipt = disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    token = csrf_token(officer.get(case).text)
    for n in range(5):
        assert officer.post(case + "/reply", data={"csrf_token": token, "message": f"Reply {n}."}).status_code == 303
    ctx = open_context(installation.data_dir)
    try:
        [case_id] = [row[0] for row in ctx.db.execute("SELECT id FROM cases")]
        assert case_history.officer_messages_since_discloser(ctx, case_id) == 5
        session = _status_session(ctx, receipt)
        view = case_status.discloser_view(ctx, session)
        assert len(view.new_replies) == 3 and view.new_reply_count == 5
    finally:
        ctx.db.conn.close()


def _status_session(ctx, receipt):
    """The discloser's status session, opened with their receipt as the status page opens it."""
    from portal.intake import receipts
    return receipts.resume_status(ctx, receipts.open_status(ctx, receipt).cookie)


def test_replies_after_the_disclosers_message_on_the_same_day_are_new_to_them(app, installation):
    """A discloser's messages sort after the officers' of their day (migration 30), so what is new is
    told by the mark kept for the discloser alone (migration 35), not by the thread's order."""
    discloser = app.test_client()
    receipt = disclose_to(discloser)
    officer, case = officer_on_case(app, installation.officer)
    page = open_status(discloser, receipt)
    assert post_multipart(discloser, "/status/reply", [("csrf_token", csrf_token(page)),
                                                       ("message", "Written in the morning.")]).status_code == 303
    assert 'id="new-replies"' not in discloser.get("/status").text
    for n in range(2):
        assert post(officer, case + "/reply", message=f"Answered in the afternoon, {n}.").status_code == 303
    page = discloser.get("/status").text
    new = page.split('id="whats-new"')[1].split("</section>")[0]
    assert "2 new messages" in new and "Answered in the afternoon, 1." in new
    # The mark is sealed to the discloser: the disk holds no officers' message key in the clear.
    ctx = open_context(installation.data_dir)
    try:
        [(sealed,)] = ctx.db.execute("SELECT seen_ct FROM discloser_marks").fetchall()
        keys = {seq.to_bytes(8, "big") for (seq,) in ctx.db.execute("SELECT seq FROM messages")}
        assert len(sealed) > 8 and not any(key in sealed for key in keys | {(0).to_bytes(8, "big")})
    finally:
        ctx.db.conn.close()
    # Writing again makes nothing new.
    assert post_multipart(discloser, "/status/reply", [("csrf_token", csrf_token(page)),
                                                       ("message", "Thank you.")]).status_code == 303
    assert 'id="new-replies"' not in discloser.get("/status").text
