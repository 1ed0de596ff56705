"""Long threads for the message-paging tests and bench/bench_long_cases.py: messages added with the
portal's own function (case_history.insert_message), officers' replies audited as the console audits
them, the discloser's counted in the case's quota as their replies are."""
from __future__ import annotations

import datetime as dt

from portal.core.clock import today
from portal.core.context import open_context
from portal.records import case_history, casefiles
from portal.store import transaction
from tests.conftest import officer_key


def add_messages(data_dir, officer, ref: str, count: int, *, text: str = "Message number {n}.") -> None:
    """Add `count` messages to the case, officer and discloser in turn, in one transaction, one a day
    up to today: within a day the thread shows officers' messages first and the discloser's in no
    order that dates them (case_history.message_place), so only days give a thread its order."""
    ctx = open_context(data_dir)
    try:
        account, private_key = officer_key(ctx, officer)
        case = casefiles.get_case(ctx, ref=ref)
        case_key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
        last_day = dt.date.fromisoformat(today(ctx.settings.timezone))
        from_discloser = 0
        with transaction(ctx.db):
            for n in range(1, count + 1):
                officer_turn = n % 2 == 1
                from_discloser += not officer_turn
                case_history.insert_message(
                    ctx, case.id, case_key, author="officer" if officer_turn else "discloser",
                    account_id=account.id if officer_turn else None,
                    day=(last_day - dt.timedelta(days=count - n)).isoformat(), body=text.format(n=n))
            ctx.db.execute(
                "INSERT INTO case_quota (case_id, messages, bytes) VALUES (?, ?, 0) ON CONFLICT (case_id)"
                " DO UPDATE SET messages = case_quota.messages + excluded.messages", [case.id, from_discloser])
    finally:
        ctx.db.conn.close()
