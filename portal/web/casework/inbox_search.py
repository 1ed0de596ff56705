"""Searching the inbox by words (POST only, so the words are never in a URL, a log line or the
browser's history; portal/casework/search.py keeps them nowhere)."""

from __future__ import annotations

from flask import g, render_template
from flask_wtf import FlaskForm
from wtforms import SearchField
from wtforms.validators import Length

from portal.casework import search
from portal.web.casework.blueprint import bp
from portal.web.console_session import signed_in
from portal.web.context import portal_context


class SearchForm(FlaskForm):
    words = SearchField(
        "Find cases by words of their title or details",
        validators=[Length(max=search.MAX_QUERY_CHARACTERS)],
    )


@bp.post("/search")
@signed_in("officer")
def search_cases():
    form = SearchForm()
    problem, results = None, None
    if form.validate_on_submit():
        try:
            results = search.find(
                portal_context(), g.who, search.parse_words(form.words.data or "")
            )
        except search.BadSearch as exc:
            problem = str(exc)
    else:
        problem = f"Search for at most {search.MAX_QUERY_CHARACTERS} characters at once."
    return render_template(
        "casework/search.html",
        search_form=form,
        results=results,
        problem=problem,
        shown_at_most=search.SHOWN,
        deadline_words=search.queue_rows.DEADLINE_WORDS,
    ), (200 if problem is None else 400)
