"""An officer's saved views of the inbox (issue 25): filters and order only, never a reference or words
searched for; each officer's own; saving and removing each confirmed on the page they lead to."""
from __future__ import annotations

import re

from portal.core.context import open_context
from tests.support import csrf_token
from tests.support.console import sign_in
from tests.support.workflow import disclose_to


def officer(app, person):
    client = app.test_client()
    assert sign_in(client, person).status_code == 303
    return client


def test_a_saved_view_keeps_filters_and_order_only_and_is_the_officers_own(app, installation):
    disclose_to(app.test_client(), summary="Fuel cards used at weekends")
    ana = officer(app, installation.officer)
    page = ana.get("/console/", query_string={"status": "received", "sort": "deadline", "q": "PD-AAAA"}).text
    form = re.search(r'<form method="post" action="/console/views".*?</form>', page, re.S).group(0)
    assert '<label for="view_name">' in form and 'name="q"' not in form  # the reference is not offered to keep
    # Even a hand-made form with a reference and words keeps neither.
    saved = ana.post("/console/views", data={"csrf_token": csrf_token(page), "view_name": "  New   cases ",
                                             "status": "received", "sort": "deadline", "q": "PD-AAAA",
                                             "words": "weekends", "after": "2026-01-01_PD-A"})
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/console/?notice=view-saved&status=received&sort=deadline"
    shown = ana.get(saved.headers["Location"]).text
    assert re.search(r'role="status" id="inbox-notice">The view is saved', shown)
    assert '<a href="/console/?status=received&amp;sort=deadline">New cases</a>' in shown
    [(filters,)] = open_context(installation.data_dir).db.execute("SELECT filters FROM saved_views").fetchall()
    assert filters == "status=received&sort=deadline"
    # Saving the same name again replaces the view; an empty view or name is refused in words.
    again = ana.post("/console/views", data={"csrf_token": csrf_token(page), "view_name": "New cases",
                                             "due": "overdue"})
    assert again.status_code == 303 and len(re.findall(r">New cases</a>", ana.get("/console/").text)) == 1
    assert ana.post("/console/views", data={"csrf_token": csrf_token(page), "view_name": "All"}).status_code == 400
    assert ana.post("/console/views", data={"csrf_token": csrf_token(page), "view_name": " ",
                                            "status": "received"}).status_code == 400
    # Ben neither sees nor removes Ana's view.
    ben = officer(app, installation.other_officer)
    assert "New cases" not in ben.get("/console/").text
    [view_id] = re.findall(r'action="/console/views/(\d+)/remove"', ana.get("/console/").text)
    assert ben.post(f"/console/views/{view_id}/remove",
                    data={"csrf_token": csrf_token(ben.get("/console/").text)}).status_code == 404
    removed = ana.post(f"/console/views/{view_id}/remove", data={"csrf_token": csrf_token(page)})
    assert removed.status_code == 303
    after = ana.get(removed.headers["Location"]).text
    assert 'role="status" id="inbox-notice">The view is removed' in after and ">New cases</a>" not in after
