"""The case page's files: an officer's audited clean copy of any file, and the originals the
discloser handed over (portal.casework.file_copies)."""

from __future__ import annotations

from flask import abort, g, redirect, url_for

from portal.casework import file_copies
from portal.web.casework.blueprint import bp
from portal.web.casework.case_page import download_response
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm


@bp.post("/cases/<ref>/attachments/<attachment_id>/clean-copy")
@signed_in("officer")
def clean_copy(ref: str, attachment_id: str):
    if not EmptyForm().validate():
        abort(400)
    outcome = file_copies.clean_copy(portal_context(), g.who, ref, attachment_id)
    return redirect(url_for("console.case", ref=ref, copy=outcome.state) + "#file-details", 303)


@bp.get("/cases/<ref>/originals/<original_id>")
@signed_in("officer")
def original(ref: str, original_id: str):
    meta, chunks = file_copies.download_original(portal_context(), g.who, ref, original_id)
    return download_response(meta.name, meta.size, chunks)
