"""The discloser's count of new messages (issue 25): every officer's message since the discloser last
wrote, counted in full, not only those of the latest page of the thread."""
from __future__ import annotations

from portal.core.context import open_context
from portal.intake import case_status
from portal.records import case_history
from tests.support import csrf_token
from tests.support.workflow import disclose_to, officer_on_case


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
