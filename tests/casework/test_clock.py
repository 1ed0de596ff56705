"""The s 13 steps, statuses and the statutory clock, driven over HTTP, with what the discloser sees."""
from __future__ import annotations

import re

import pytest

from portal.casework import deadlines
from portal.core.context import open_context
from tests.conftest import add_account, run_cli
from tests.support.console import case_links, sign_in
from tests.support.workflow import (disclose_to, due_date, expected_by, officer_on_case, open_status, post,
                                    step_done, today)  # noqa: F401  (today is a fixture)


def test_each_step_and_status_and_what_the_discloser_sees(app, installation, today):
    today.set("2026-03-02")
    discloser = app.test_client()
    receipt = disclose_to(discloser)
    officer, case = officer_on_case(app, installation.officer)

    page = officer.get(case).text
    # 20 working days after Monday 2 March 2026 (that day not counted): Monday 30 March.
    assert due_date(page) == ("respond", "2026-03-30")
    assert 'id="days-left">(20 working days left)' in page
    status = open_status(discloser, receipt)
    assert expected_by(status) == "2026-03-30"
    assert 'data-status="received"' in status
    assert "(your disclosure now)" in status and "Your disclosure was acknowledged" not in status

    # (a) Acknowledging moves a received case to 'acknowledged'; the discloser sees the step with its day.
    today.set("2026-03-04")
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    page = officer.get(case).text
    assert step_done(page, "acknowledge") == "2026-03-04"
    assert 'data-status="acknowledged"' in page
    status = discloser.get("/status").text
    assert 'data-status="acknowledged"' in status
    assert re.search(r'data-step="acknowledge">Your disclosure was acknowledged on <time datetime="2026-03-04">4 March 2026</time>', status)
    assert "Received on <time datetime=\"2026-03-02\">2 March 2026</time>" in status

    # (b), (c): each recorded with its day; doing one twice is refused with a clear message.
    today.set("2026-03-05")
    assert post(officer, case + "/steps", step="consider").status_code == 303
    assert post(officer, case + "/steps", step="check").status_code == 303
    again = post(officer, case + "/steps", step="check")
    assert again.status_code == 400 and "already recorded as done" in again.text
    assert post(officer, case + "/steps", step="sideways").status_code == 400
    page = officer.get(case).text
    assert step_done(page, "consider") == step_done(page, "check") == "2026-03-05"
    assert step_done(page, "deal") == step_done(page, "inform") == ""
    assert due_date(page) == ("respond", "2026-03-30")
    status = discloser.get("/status").text
    assert "checked whether you had raised it anywhere else on <time datetime=\"2026-03-05\">" in status

    # Every status the console offers, as the discloser then sees it, with what it means.
    for value, label in (("assessing", "Being assessed"), ("investigating", "Being investigated"),
                         ("addressed", "Addressed: action has been taken or recommended"),
                         ("referred", "Referred to another authority"),
                         ("no_further_action", "Closed: no further action will be taken"),
                         ("closed", "Closed: the matter has been dealt with"),
                         ("acknowledged", "Acknowledged")):
        reason = "" if value in ("assessing", "acknowledged") else f"Reason for {value}."
        assert post(officer, case + "/status", status=value, reason=reason).status_code == 303
        status = discloser.get("/status").text
        assert f'data-status="{value}"' in status and label in status
        assert re.search(rf"<dt>[^<]*{re.escape(label.split(':')[0])}[^<]*\(your disclosure now\)</dt>", status)
        if reason:
            assert reason in status

    # (d) and (e): an outcome given with a reason is dealing with it and telling the discloser why.
    page = officer.get(case).text
    assert step_done(page, "deal") == step_done(page, "inform") == "2026-03-05"
    assert due_date(page) is None
    assert expected_by(discloser.get("/status").text) is None
    assert "You were told, with reasons, what is being done on <time datetime=\"2026-03-05\">" in discloser.get("/status").text
    # Each step is in the audit log once, with the officer who recorded it.
    ctx = open_context(installation.data_dir)
    steps = ctx.db.execute("SELECT detail FROM audit_log WHERE event = 'step_done' AND actor IS NOT NULL").fetchall()
    assert sorted(d for (d,) in steps) == sorted(f'{{"step":"{s}"}}' for s in deadlines.STEPS)


def test_an_outcome_status_records_the_steps_it_means(app, installation, today):
    today.set("2026-03-02")
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    today.set("2026-03-09")
    # Investigating without a reason: considered (it warrants investigation) and dealt with (it is being
    # investigated), but neither acknowledged nor checked, and the discloser is not yet told why.
    assert post(officer, case + "/status", status="investigating").status_code == 303
    page = officer.get(case).text
    for step in ("consider", "deal"):
        assert step_done(page, step) == "2026-03-09"
    assert step_done(page, "acknowledge") == step_done(page, "check") == step_done(page, "inform") == ""
    assert due_date(page) == ("respond", "2026-03-30")
    # no_further_action needs its reasons (s 15).
    refused = post(officer, case + "/status", status="no_further_action")
    assert refused.status_code == 400 and "Give the discloser a reason" in refused.text


def test_nz_december_case_runs_across_the_summer_close(app, installation, today):
    today.set("2026-12-10")
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    # 11 Dec is day 1; 24 Dec day 10; 25 Dec to 2 Jan are not working days; 4 Jan 2027 is day 11.
    page = officer.get(case).text
    assert due_date(page) == ("respond", "2027-01-15")
    assert "(20 working days left)" in page  # working days, as s 13 counts them
    assert expected_by(open_status(discloser, receipt)) == "2027-01-15"
    today.set("2027-01-18")
    assert "(overdue by 1 working day)" in officer.get(case).text
    inbox = officer.get("/console/").text
    assert 'data-due="2027-01-15"' in inbox


def test_eu_regime_31_january_acknowledged_the_same_day(app, installation, today):
    run_cli(installation.data_dir, "channel", "add", "EU desk", "--regime", "eu")
    eu_officer = add_account(installation.data_dir, "officer", "eva@agency.eu", "Eva Officer", ["EU desk"])
    today.set("2027-01-31")
    receipt = disclose_to(discloser := app.test_client(), channel="EU desk")
    officer, case = officer_on_case(app, eu_officer)
    page = officer.get(case).text
    assert due_date(page) == ("acknowledge", "2027-02-07")
    assert "(7 days left)" in page
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    # 3 calendar months from 31 January is 30 April (no 31 April).
    page = officer.get(case).text
    assert due_date(page) == ("feedback", "2027-04-30")
    status = open_status(discloser, receipt)
    assert expected_by(status) == "2027-04-30"
    # The discloser reads the Directive's terms, not the New Zealand Act's.
    assert 'id="regime-eu"' in status and "within 7 days" in status and "Art 15" in status
    for nz_only in ("20 working days", "s 13", "s 14", "Going to the news media is not protected", "0800 802 602"):
        assert nz_only not in status, nz_only
    # The Directive has no s 13(2) extension: refused clearly.
    refused = post(officer, case + "/extension", expected_timeframe="Six months", update_every="20")
    assert refused.status_code == 400 and "EU regime" in refused.text
    assert post(officer, case + "/status", status="addressed", reason="The payments were stopped.").status_code == 303
    assert due_date(officer.get(case).text) is None


def test_eu_feedback_runs_from_the_end_of_the_seven_days_when_no_acknowledgement_was_sent(app, installation, today):
    run_cli(installation.data_dir, "channel", "add", "EU desk", "--regime", "eu")
    eu_officer = add_account(installation.data_dir, "officer", "eva@agency.eu", "Eva Officer", ["EU desk"])
    today.set("2027-01-31")
    disclose_to(app.test_client(), channel="EU desk")
    officer, case = officer_on_case(app, eu_officer)
    today.set("2027-02-10")
    assert "overdue by 3 days" in officer.get(case).text
    # Acknowledged late: feedback is still due 3 months after 7 February, not after 10 February.
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    assert due_date(officer.get(case).text) == ("feedback", "2027-05-07")


def test_s13_2_extension_keeps_the_first_steps_at_20_days_and_schedules_progress_updates(app, installation, today):
    today.set("2026-03-02")
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    today.set("2026-03-10")
    bad = post(officer, case + "/extension", expected_timeframe="", update_every="0")
    assert bad.status_code == 400 and "Tell the discloser how long" in bad.text and "between 1 and 60" in bad.text
    assert post(officer, case + "/extension", expected_timeframe="About three months",
                update_every="10").status_code == 303
    # s 13(2)(a): acknowledge, consider and check are still due within the 20 working days.
    assert due_date(officer.get(case).text) == ("respond", "2026-03-30")
    for step in ("acknowledge", "consider", "check"):
        assert post(officer, case + "/steps", step=step).status_code == 303
    page = officer.get(case).text
    # Then the next progress update: 10 working days after 10 March.
    assert due_date(page) == ("update", "2026-03-24")
    assert "About three months" in page
    status = open_status(discloser, receipt)
    assert "They expect to take: About three months" in status
    assert expected_by(status) == "2026-03-24"

    # A reply marked as a progress update moves the next one on: 10 working days after 20 March, skipping
    # Good Friday (3 April) and Easter Monday (6 April) 2026.
    today.set("2026-03-20")
    assert post(officer, case + "/reply", message="We are still gathering records.",
                progress_update="y").status_code == 303
    page = officer.get(case).text
    assert due_date(page) == ("update", "2026-04-07")
    assert 'given on <time datetime="2026-03-20">20 March 2026</time>' in page
    status = discloser.get("/status").text
    assert "We are still gathering records." in status and expected_by(status) == "2026-04-07"
    # Once the matter is dealt with, no further update is due.
    assert post(officer, case + "/status", status="addressed", reason="Action was recommended.").status_code == 303
    assert due_date(officer.get(case).text) is None


def test_a_progress_update_without_an_extension_is_refused_and_the_message_kept(app, installation, today):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    refused = post(officer, case + "/reply", message="Progress so far.", progress_update="y")
    assert refused.status_code == 400 and "record one first" in refused.text
    assert "Progress so far." in refused.text


def test_the_inbox_reads_stored_due_dates_and_never_computes_them(app, installation, today, monkeypatch):
    today.set("2026-03-02")
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT due_day, due_kind FROM cases").fetchone() == ("2026-03-30", "respond")

    def no_computing(*args, **kwargs):
        raise AssertionError("the inbox computed a deadline")
    monkeypatch.setattr(deadlines, "next_deadline", no_computing)
    monkeypatch.setattr(deadlines, "respond_by", no_computing)
    inbox = officer.get("/console/")
    assert inbox.status_code == 200 and 'data-due="2026-03-30"' in inbox.text


def test_channel_regime_option(installation):
    from click.testing import CliRunner
    from portal.cli import main
    result = CliRunner().invoke(main, ["--data", str(installation.data_dir), "channel", "add", "X", "--regime", "us"])
    assert result.exit_code != 0 and "'us' is not one of 'nz', 'eu'" in result.output
    run_cli(installation.data_dir, "channel", "add", "EU desk", "--regime", "eu")
    ctx = open_context(installation.data_dir)
    assert dict(ctx.db.execute("SELECT name, regime FROM channels").fetchall()) == {
        "Audit and Risk": "nz", "Procurement": "nz", "EU desk": "eu"}


@pytest.mark.parametrize("received, months_later", [("2027-01-31", "2027-04-30"), ("2027-11-30", "2028-02-29"),
                                                    ("2027-08-31", "2027-11-30")])
def test_eu_calendar_months_clip_to_the_month_end(received, months_later):
    import datetime as dt
    assert deadlines.feedback_by(dt.date.fromisoformat(received), dt.date.fromisoformat(received)).isoformat() == months_later


def test_each_status_marks_only_the_step_it_does_and_the_panel_shows_what_is_owed(app, installation, today):
    """s 13(1): no further action (s 15) with its reasons is dealing with the matter (d)(iv) and informing
    the discloser (e); it neither acknowledges (a), considers (b) nor checks (c). Closing says the dealing is
    finished without doing any step; with a reason it informs the discloser."""
    today.set("2026-03-02")
    receipts = [disclose_to(app.test_client()) for _ in range(3)]
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    nfa, closed, assessed = case_links(officer.get("/console/").text)
    today.set("2026-03-04")
    assert post(officer, nfa + "/status", status="no_further_action", reason="Not serious wrongdoing.").status_code == 303
    assert post(officer, closed + "/status", status="closed", reason="Dealt with by the board.").status_code == 303
    assert post(officer, assessed + "/status", status="assessing").status_code == 303
    done = {case: {s: step_done(officer.get(case).text, s) for s in deadlines.STEPS} for case in (nfa, closed, assessed)}
    assert done[nfa] == {"acknowledge": "", "consider": "", "check": "", "deal": "2026-03-04", "inform": "2026-03-04"}
    assert done[closed] == {"acknowledge": "", "consider": "", "check": "", "deal": "", "inform": "2026-03-04"}
    assert set(done[assessed].values()) == {""}
    # The panel still shows what is owed, and the clock still runs for it.
    page = officer.get(nfa).text
    owed = re.search(r'<dd id="still-owed">(.*?)</dd>', page, re.S).group(1)
    assert "acknowledge it (s 13(1)(a))" in owed and "consider it (s 13(1)(b))" in owed and "(s 13(1)(c))" in owed
    assert "(s 13(1)(d))" not in owed and "(s 13(1)(e))" not in owed
    assert due_date(page) == ("respond", "2026-03-30")
    # The discloser, told with reasons of the outcome, is promised no further date.
    seen = {open_status(app.test_client(), r) for r in receipts}
    told = [p for p in seen if "Not serious wrongdoing." in p]
    assert told and expected_by(told[0]) is None and "no action is required (s 15 of the Act)" in told[0]
    # Recording the owed steps one by one stops the clock.
    for step in ("acknowledge", "consider", "check"):
        assert post(officer, nfa + "/steps", step=step).status_code == 303
    page = officer.get(nfa).text
    assert due_date(page) is None and 'id="still-owed"' not in page
