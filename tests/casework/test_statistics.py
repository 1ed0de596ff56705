"""Statistics without content: counts for a fixed period, small counts hidden, the export audited."""
from __future__ import annotations

import csv
import io

import pytest

from portal.casework import statistics, statistics_suppression
from portal.core.context import open_context
from tests.support.workflow import disclose_to, post, today  # noqa: F401
from tests.support.console import case_links, sign_in


def counts_of_period(text: str) -> dict[tuple[str, str], str]:
    assert text.startswith("\ufeff")  # UTF-8 with a byte-order mark, for spreadsheets
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    return {(r[2], r[3]): r[4] for r in rows[1:]}


def counts_of(text: str) -> dict[tuple[str, str], str]:
    assert text.startswith("\ufeff")  # UTF-8 with a byte-order mark, for spreadsheets
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["period_from", "period_to", "measure", "value", "count"]
    assert all(r[:2] == ["2026-01-01", "2026-03-31"] for r in rows[1:])
    return {(r[2], r[3]): r[4] for r in rows[1:]}


@pytest.fixture
def known_set(app, installation, today):
    """Twelve disclosures in January-March 2026 (7 public funds, 3 offences, 2 health and safety), six of
    them acknowledged two working days later; one more in April, outside the period. Today is then in
    July: January-March and April-June have ended, and so has the financial year to 30 June."""
    today.set("2026-02-02")
    for category, n in (("public_funds", 7), ("offence", 3), ("health_safety_environment", 2)):
        for _ in range(n):
            disclose_to(app.test_client(), category=category)
    today.set("2026-04-02")
    disclose_to(app.test_client(), category="offence")
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    today.set("2026-02-04")
    acknowledged = 0
    for url in case_links(officer.get("/console/").text):
        if acknowledged < 6 and '<dd><time datetime="2026-02-02">' in officer.get(url).text:
            assert post(officer, url + "/steps", step="acknowledge").status_code == 303
            acknowledged += 1
    assert acknowledged == 6
    today.set("2026-07-02")
    return officer


def test_the_csv_of_a_known_set_equals_the_expected_counts_with_small_counts_hidden(known_set, installation):
    response = known_set.get("/console/statistics.csv?from=2026-01-01&to=2026-03-31")
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    # UTF-8 with a byte-order mark and CR LF rows: Excel shows "Manatū Hauora" as written, not mojibake.
    assert response.data.startswith(b"\xef\xbb\xbfperiod_from,") and b"\r\n" in response.data
    counts = counts_of(response.text)
    assert counts == {
        ("cases_received", ""): "12",
        ("channel", "Audit and Risk"): "12", ("channel", "total"): "12",
        ("category", "offence"): "<5", ("category", "health_safety_environment"): "<5",
        ("category", "public_funds"): "7", ("category", "maintenance_of_law"): "0",
        ("category", "public_sector_conduct"): "0", ("category", "not_sure"): "0", ("category", "total"): "12",
        **{("status", s): "0" for s in ("assessing", "investigating", "addressed", "referred",
                                        "no_further_action", "closed")},
        ("status", "received"): "6", ("status", "acknowledged"): "6", ("status", "total"): "12",
        ("outcome", "addressed"): "0", ("outcome", "referred"): "0", ("outcome", "no_further_action"): "0",
        ("outcome", "none_yet"): "12", ("outcome", "total"): "12",
        ("regime", "nz"): "12", ("regime", "eu"): "0", ("regime", "total"): "12",
        # As the cases stood on 31 March: the six not acknowledged missed the 20 working days (s 13).
        ("acknowledged_in_time", "met"): "6", ("acknowledged_in_time", "missed"): "6",
        ("acknowledged_in_time", "pending"): "0", ("acknowledged_in_time", "total"): "12",
        ("responded_in_time", "met"): "0", ("responded_in_time", "missed"): "12",
        ("responded_in_time", "pending"): "0", ("responded_in_time", "total"): "12",
        ("median_working_days_to_acknowledge", ""): "2",
        ("median_working_days_to_respond", ""): "not shown (fewer than 5 cases)",
    }
    # The page shows the same, and both are in the audit log with their period.
    page = known_set.get("/console/statistics?from=2026-01-01&to=2026-03-31").text
    assert '<strong id="cases-received">12</strong>' in page
    assert '<tr data-value="offence"><th scope="row">An offence</th><td>&lt;5</td></tr>' in page
    ctx = open_context(installation.data_dir)
    events = ctx.db.execute("SELECT event, detail FROM audit_log WHERE event LIKE 'statistics%'").fetchall()
    assert ('statistics_export', '{"from":"2026-01-01","to":"2026-03-31"}') in events
    assert ('statistics_view', '{"from":"2026-01-01","to":"2026-03-31"}') in events


def test_a_hidden_cell_that_the_total_would_reveal_hides_another_cell_or_the_total(known_set):
    # The April case is alone in its quarter: every count is "<5", and so is the total.
    counts = known_set.get("/console/statistics.csv?from=2026-04-01&to=2026-06-30").text
    assert "cases_received,,<5" in counts and "category,offence,<5" in counts
    # One hidden cell beside shown ones: the smallest shown cell is hidden too.
    shown, hide_total = statistics_suppression.suppress({"a": 9, "b": 6, "c": 2, "d": 0}, 17)
    assert shown == {"a": "9", "b": "suppressed", "c": "<5", "d": "0"} and not hide_total
    # Two hidden cells whose sum pins them both (1 + 1): hidden further.
    shown, hide_total = statistics_suppression.suppress({"a": 8, "b": 1, "c": 1}, 10)
    assert shown["a"] == "suppressed" and not hide_total
    # Hidden cells pinned by the total (4 + 4 = 8) with nothing else to hide: the total goes.
    assert statistics_suppression.suppress({"a": 4, "b": 4, "c": 0}, 8) == ({"a": "<5", "b": "<5", "c": "0"}, True)
    # Two hidden cells whose sum does not pin them (3 + 2): nothing more hidden.
    assert statistics_suppression.suppress({"a": 3, "b": 2, "c": 6}, 11) == ({"a": "<5", "b": "<5", "c": "6"}, False)


def test_only_fixed_periods_are_given(known_set):
    for query in ("from=2026-01-15&to=2026-03-31", "from=2026-01-01&to=2026-02-28", "from=2025-07-01&to=2026-07-01",
                  "from=yesterday&to=", "from=2026-02-30&to=2026-03-31"):
        response = known_set.get(f"/console/statistics?{query}")
        assert response.status_code == 400
        assert "whole quarters" in response.text or "YYYY-MM-DD" in response.text
        assert known_set.get(f"/console/statistics.csv?{query}").status_code == 400
    # A financial year (1 July to 30 June) is a fixed period.
    assert known_set.get("/console/statistics.csv?from=2025-07-01&to=2026-06-30").status_code == 200


def test_a_financial_year_shows_only_what_its_quarters_show(known_set, app, today):
    """The year is the sum of its quarters, which are published too. April-June 2026 holds one case (its
    total "<5"), so the year's 13 would give it away as 13 - 12: the year's total is hidden, and with it every
    count from 5 up. Where every quarter shows its own count, the year's is their sum and is shown."""
    fy = counts_of_period(known_set.get("/console/statistics.csv?from=2025-07-01&to=2026-06-30").text)
    assert fy[("cases_received", "")] == "suppressed"
    assert fy[("category", "offence")] == "suppressed"          # 3 + 1: April's offence is hidden there
    assert fy[("category", "public_funds")] == "suppressed"     # 7, every quarter shown, but from 5 up
    assert fy[("category", "not_sure")] == "0"
    assert not any(v.isdigit() and int(v) >= 5 for v in fy.values())


def test_a_financial_year_whose_quarters_all_show_their_totals_shows_its_own(app, installation, today):
    """A second quarter of six cases: its total is shown, so the year's is too (their sum), and a cell
    hidden in any quarter stays hidden in the year."""
    today.set("2026-02-02")
    for category in ["public_funds"] * 7 + ["offence"] * 3 + ["health_safety_environment"] * 2:
        disclose_to(app.test_client(), category=category)
    today.set("2026-04-03")
    for category in ("offence", "offence", "public_funds", "public_funds", "public_funds", "public_funds"):
        disclose_to(app.test_client(), category=category)
    today.set("2026-07-02")
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    quarter = counts_of_period(officer.get("/console/statistics.csv?from=2026-04-01&to=2026-06-30").text)
    assert quarter[("cases_received", "")] == "6" and quarter[("category", "offence")] == "<5"
    fy = counts_of_period(officer.get("/console/statistics.csv?from=2025-07-01&to=2026-06-30").text)
    assert fy[("cases_received", "")] == "18"
    assert fy[("category", "offence")] == "suppressed"     # 3 + 2: hidden in both quarters
    assert fy[("category", "health_safety_environment")] == "suppressed"   # hidden in January-March
    assert fy[("category", "not_sure")] == "0"


def test_a_hidden_total_is_not_given_back_by_another_breakdown(app, installation, today):
    """Four offences and four public-funds cases: the categories' "<5" pin each other through the total, so the
    total is hidden; then no other breakdown may show the 8 its cells add up to."""
    from tests.support.console import sign_in
    today.set("2026-02-02")
    for category in ["offence"] * 4 + ["public_funds"] * 4:
        disclose_to(app.test_client(), category=category)
    today.set("2026-04-01")
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    counts = counts_of(officer.get("/console/statistics.csv?from=2026-01-01&to=2026-03-31").text)
    assert counts[("cases_received", "")] == "suppressed" and counts[("category", "offence")] == "<5"
    assert counts[("channel", "Audit and Risk")] == "suppressed" and counts[("regime", "nz")] == "suppressed"
    assert not any(v.isdigit() and int(v) >= 5 for v in counts.values())
