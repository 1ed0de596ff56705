"""Helpers for the workflow tests: a settable clock, and the pages' statutory elements read back."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from portal.core import clock
from tests.support import csrf_token, receipt_from
from tests.support.console import case_links, sign_in
from tests.support.discloser import disclose


def disclose_to(client, channel: str = "Audit and Risk", details: str = "Invoices paid twice.", **fields) -> str:
    """Make a disclosure over HTTP and return its receipt."""
    response = disclose(client, details, files=(), channel=channel, **fields)
    assert response.status_code == 200, response.text
    return receipt_from(response.text)


def officer_on_case(app, person) -> tuple[object, str]:
    """A signed-in console client for `person` and the URL of the only case in their inbox."""
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    [url] = case_links(client.get("/console/").text)
    return client, url


class Today:
    """Sets the portal's idea of today (noon in Auckland) for everything that dates an action."""

    def __init__(self, monkeypatch) -> None:
        self._moment = dt.datetime(2026, 3, 2, 12, tzinfo=ZoneInfo("Pacific/Auckland"))
        monkeypatch.setattr(clock, "now_utc", lambda: self._moment.astimezone(dt.timezone.utc))

    def set(self, day: str) -> None:
        self._moment = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12),
                                           tzinfo=ZoneInfo("Pacific/Auckland"))


@pytest.fixture
def today(monkeypatch) -> Today:
    return Today(monkeypatch)


def due_date(html: str) -> tuple[str, str] | None:
    """(data-deadline, YYYY-MM-DD) of the case page's id="due-date", or None when there is none: as
    text, or as the `datetime` of a <time> written `|nz_date("due-date", data_deadline=kind)`."""
    m = re.search(r'id="due-date" data-deadline="([a-z]+)">([0-9-]{10})<', html)
    if m is None:  # the date in words, in <time> (the filter nz_date, CONTRACT.md [workspace])
        m = re.search(r'id="due-date" datetime="([0-9-]{10})" data-deadline="([a-z]+)">', html)
        return (m.group(2), m.group(1)) if m else None
    return (m.group(1), m.group(2))


def expected_by(html: str) -> str | None:
    """YYYY-MM-DD of the status page's id="expected-by" (its `datetime` once a `<time>`)."""
    m = re.search(r'id="expected-by" datetime="([0-9-]{10})"', html) or re.search(
        r'id="expected-by">([0-9-]{10})<', html)
    return m.group(1) if m else None


def step_done(html: str, step: str) -> str:
    """The day the case page's checklist shows the step done, or '' when not done."""
    m = re.search(rf'data-step="{step}" data-done="([0-9-]*)"', html)
    assert m, f"no checklist row for {step}"
    return m.group(1)


def post(client, url: str, page: str | None = None, **fields):
    """POST a console form with the CSRF token of the page it is on (`page`, else the case or the URL itself)."""
    page_url = page or (url.rsplit("/", 1)[0] if "/cases/" in url else url)
    token = csrf_token(client.get(page_url).text)
    return client.post(url, data={"csrf_token": token, **fields})


def open_status(client, receipt: str) -> str:
    token = csrf_token(client.get("/status").text)
    assert client.post("/status", data={"csrf_token": token, "receipt": receipt}).status_code == 303
    return client.get("/status").text
