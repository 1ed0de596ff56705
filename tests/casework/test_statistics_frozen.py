"""Statistics of completed periods only, frozen once per officer (portal.casework.statistics_snapshots):
their cost does not grow with the cases, an unfinished quarter gives nothing to compare from one day
to the next, and `portal audit verify` rebuilds what was frozen (issues 23 and 26)."""
from __future__ import annotations

import re


from click.testing import CliRunner

from portal.cli import main as portal_cli
from portal.core.context import open_context
from tests.support.console import case_links, sign_in
from tests.support.counting import counting
from tests.support.workflow import disclose_to, post, today  # noqa: F401
from tests.support import database

Q1 = "from=2026-01-01&to=2026-03-31"
FY = "from=2025-07-01&to=2026-06-30"


def _disclosures(app, n: int, category: str = "public_funds") -> None:
    for _ in range(n):
        disclose_to(app.test_client(), category=category)


def _officer(app, installation):
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    return officer


def _verify(data_dir):
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify"])


def test_the_current_quarter_does_not_change_when_a_case_comes_in_today(app, installation, today):
    today.set("2026-02-02")
    _disclosures(app, 10)
    officer = _officer(app, installation)
    today.set("2026-03-10")
    url = f"/console/statistics?{Q1}"
    page, csv = officer.get(url), officer.get(f"/console/statistics.csv?{Q1}")
    assert "has not ended yet" in page.text and "1 April 2026" in page.text
    assert 'id="cases-received"' not in page.text and csv.status_code == 400
    disclose_to(app.test_client(), category="offence")  # the eleventh, today
    assert _without_tokens(officer.get(url).text) == _without_tokens(page.text)
    after = officer.get(f"/console/statistics.csv?{Q1}")
    assert (after.status_code, after.text) == (csv.status_code, csv.text)
    # The page with no period chosen shows the last quarter that has ended, never the current one.
    assert 'data-from="2025-10-01" data-to="2025-12-31"' in officer.get("/console/statistics").text


def _without_tokens(html: str) -> str:
    """The page as it reads: a form's CSRF token carries the second it was made."""
    return re.sub(r'name="csrf_token"[^>]*>', "", html)


def frozen_quarter(app, installation, today, cases: int = 6):
    """`cases` disclosures in January-March 2026, the quarter then viewed (frozen) on 2 April:
    (the officer's client, the quarter's CSV)."""
    today.set("2026-02-02")
    _disclosures(app, cases)
    today.set("2026-04-02")
    officer = _officer(app, installation)
    first = officer.get(f"/console/statistics.csv?{Q1}").text
    assert f"status,received,{cases}" in first
    return officer, first


def test_a_completed_quarter_is_frozen_as_the_cases_stood_at_its_end(app, installation, today):
    officer, first = frozen_quarter(app, installation, today)
    # A case acted on after the quarter ended: the quarter's figures stay as they stood on 31 March.
    url = case_links(officer.get("/console/").text)[0]
    assert post(officer, url + "/steps", step="acknowledge").status_code == 303
    assert officer.get(f"/console/statistics.csv?{Q1}").text == first


def test_a_frozen_page_opens_no_key_and_runs_the_same_statements_at_any_size(app, installation, today, monkeypatch):
    """The financial year's page: once frozen, no key is opened and the statements do not grow with the
    cases (here 3 cases against 15)."""
    def page_cost(n_cases: int, fy: str) -> tuple[int, int]:
        year = int(fy[-10:-6])
        today.set(f"{year - 1}-08-03")
        _disclosures(app, n_cases)
        today.set(f"{year}-07-02")
        officer = _officer(app, installation)
        url = f"/console/statistics?{fy}"
        with counting(monkeypatch) as counts:
            assert officer.get(url).status_code == 200  # the first view freezes it
            counts.reset()
            assert officer.get(url).status_code == 200
            assert officer.get(url.replace("statistics?", "statistics.csv?")).status_code == 200
            return counts.keys_opened, len(counts.statements)

    small = page_cost(3, "from=2024-07-01&to=2025-06-30")
    large = page_cost(15, FY)
    assert small[0] == large[0] == 0
    assert small[1] == large[1] and large[1] <= 80, (small, large)


def test_audit_verify_rebuilds_the_frozen_figures_and_names_an_altered_one(app, installation, today):
    today.set("2026-02-02")
    _disclosures(app, 7)
    _disclosures(app, 2, "offence")
    today.set("2026-07-02")
    officer = _officer(app, installation)
    assert officer.get(f"/console/statistics?{FY}").status_code == 200
    assert _verify(installation.data_dir).exit_code == 0
    db = database.connect(installation.data_dir)
    with db:
        db.execute("UPDATE statistics_snapshots SET report = replace(report, '\"9\"', '\"10\"')"
                   " WHERE period_start = '2026-01-01'")
    db.close()
    result = _verify(installation.data_dir)
    assert result.exit_code == 1
    assert "January–March 2026" in result.output and "differ" in result.output


def test_a_date_beyond_the_working_day_table_is_a_plain_error_on_the_page(app, installation, today):
    """Matariki is fixed in law to 2052 only: a deadline in 2053 cannot be counted, and the page says so
    instead of guessing."""
    today.set("2052-11-20")
    _disclosures(app, 1)
    # A case received on 20 December 2052, whose 20 working days run into 2053. (Taking it in today
    # stops at the same clock, in intake's own deadline, outside the statistics: so it is dated here.)
    db = database.connect(installation.data_dir)
    with db:
        db.execute("UPDATE cases SET received_day = '2052-12-20'")
    db.close()
    today.set("2053-01-10")
    officer = _officer(app, installation)
    response = officer.get("/console/statistics?from=2052-10-01&to=2052-12-31")
    assert response.status_code == 400
    assert "cannot be counted" in response.text and "2053" in response.text
    assert 'id="cases-received"' not in response.text
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM statistics_snapshots").fetchone()[0] == 0
