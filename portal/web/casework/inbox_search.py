"""Searching the inbox by words (POST only, so the words are never in a URL, a log line or the
browser's history; portal/casework/search.py keeps them nowhere), and the officer's saved views
(filters and order only, portal/casework/saved_views.py)."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, StringField
from wtforms.validators import Length

from portal.casework import queue_rows, saved_views, search
from portal.web.casework.blueprint import bp
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.languages import translated


class SearchForm(FlaskForm):
    words = SearchField(
        _l("Find cases by words of their title or details"),
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
            problem = exc.args[0]
    else:
        problem = search.too_long()
    return render_template(
        "casework/search.html",
        search_form=form,
        results=results,
        problem=problem,
        shown_at_most=search.SHOWN,
        deadline_words=queue_rows.DEADLINE_WORDS,
    ), (200 if problem is None else 400)


class SaveViewForm(FlaskForm):
    view_name = StringField(_l("Name of this view"), validators=[Length(max=saved_views.MAX_NAME)])


class RemoveViewForm(FlaskForm):
    pass


@bp.post("/views")
@signed_in("officer")
def save_view():
    form = SaveViewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        view = saved_views.save(
            portal_context(), g.who.account.id, form.view_name.data or "", request.form
        )
    except saved_views.ViewRefused as exc:
        return render_template(
            "error.html", title=_("The view was not saved"), message=translated(exc.args[0])
        ), 400
    return redirect(url_for("console.inbox", notice="view-saved", **view.query), code=303)


@bp.post("/views/<int:view_id>/remove")
@signed_in("officer")
def remove_view(view_id: int):
    if not RemoveViewForm().validate_on_submit():
        abort(400)
    if not saved_views.remove(portal_context(), g.who.account.id, view_id):
        abort(404)
    return redirect(url_for("console.inbox", notice="view-removed"), code=303)
