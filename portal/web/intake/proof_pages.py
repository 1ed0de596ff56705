"""The proof of disclosure as people read it: a printable page of the signed acknowledgement (its
statement in words, the signed file itself as text and as a QR code), and the public page that
checks a proof file in the browser (`/verify`), with no request carrying the file; and the pages
of the keys a proof and a roster are checked against (`/keys`, `/signing-key`).

The checking page is served with the portal's strict Content-Security-Policy, relaxed only by
`script-src 'self'`: its script is the same-origin static file `static/verify.js`. Saved from the
browser, such a page would lose that script, so `/verify/checker.html` gives the same page as one
self-contained file to download (the script inlined, the key written in), which works opened from
disk with no network at all."""

from __future__ import annotations

import json

import segno
from flask import Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from portal.casework import acknowledgements
from portal.intake import case_status, receipts
from portal.keys import roster_work
from portal.web import page_marks
from portal.web.context import portal_context
from portal.web.intake.blueprint import bp
from portal.web.intake.status_pages import other_disclosure

# The portal's policy (portal.web.app) with the one same-origin script this page runs.
VERIFY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The statement's keys stay as signed (CONTRACT.md); only their labels are translated.
STATEMENT_WORDS = {
    "case_ref": _l("Case reference"),
    "channel": _l("Received by"),
    "received_day": _l("Received on"),
    "acknowledged_day": _l("Acknowledged on"),
    "law": _l("Under"),
    "commitment": _l("Sealed fingerprint of what was sent"),
    "discloser_signing_key": _l("The discloser's public key (it says nothing about who they are)"),
}


def _signed_proof(what: str):
    """(the case's signed proof, None) within the status session, else (None, the answer)."""
    ctx = portal_context()
    session = receipts.resume_status(
        ctx, request.cookies.get(current_app.config["PORTAL_STATUS_COOKIE"])
    )
    if session is None:
        return None, redirect(url_for("discloser.status"), code=303)
    if not page_marks.disclosure_is_current(request.args.get(page_marks.FIELD), session.subject):
        # The link was on the page of another disclosure than the one now open (two tabs).
        return None, other_disclosure(MultiDict(), what="link")
    page_marks.showing_disclosure(session.subject)
    try:
        return (ctx, session, case_status.acknowledgement(ctx, session)), None
    except acknowledgements.NotAcknowledged:
        message = gettext(
            "Your disclosure has not been acknowledged yet, so there is no %(what)s. "
            "Check again later.",
            what=what,
        )
        page = render_template("error.html", title=gettext("Not acknowledged yet"), message=message)
        return None, (page, 404)


@bp.get("/status/acknowledgement")
def acknowledgement():
    """The signed acknowledgement (proof of disclosure) as a file, once acknowledged."""
    found, answer = _signed_proof(gettext("signed acknowledgement to download"))
    if found is None:
        return answer
    signed = found[2]
    response = Response(signed.file, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{signed.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/status/proof")
def proof():
    """The printable proof of disclosure, within the discloser's status session."""
    found, answer = _signed_proof(gettext("signed proof to show"))
    if found is None:
        return answer
    ctx, session, signed = found
    envelope = json.loads(signed.file)
    response = current_app.make_response(
        render_template(
            "intake/proof.html",
            proof=signed,
            statement=envelope["statement"],
            words=STATEMENT_WORDS,
            signing_key=envelope["signing_key"],
            file_text=signed.file.decode("ascii"),
            qr=segno.make(signed.file, error="l").svg_inline(scale=3, border=4),
            attachments=case_status.discloser_view(ctx, session).attachments,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _checker(standalone: bool) -> str:
    return render_template(
        "intake/verify.html",
        public_key=acknowledgements.public_key(portal_context()),
        standalone=standalone,
        inline_script=_static_text("verify.js") if standalone else "",
        inline_style=(_static_text("portal.css") + _static_text("discloser.css"))
        if standalone
        else "",
    )


def _static_text(name: str) -> str:
    with open(f"{current_app.static_folder}/{name}", encoding="utf-8") as handle:
        return handle.read()


@bp.get("/verify")
def verify():
    """Check a proof of disclosure file, entirely in the page."""
    response = current_app.make_response(_checker(standalone=False))
    response.headers["Content-Security-Policy"] = VERIFY_POLICY
    return response


@bp.get("/verify/checker.html")
def verify_download():
    """The checking page as one file to keep and open from disk (downloaded, never shown here)."""
    response = Response(_checker(standalone=True), mimetype="text/html")
    response.headers["Content-Disposition"] = 'attachment; filename="check-a-proof.html"'
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@bp.get("/keys")
def keys():
    """The keys a discloser, a lawyer or an officer compares with the organisation's published
    policy: the installation's signing key and each channel's roster root (SECURITY.md)."""
    ctx = portal_context()
    return render_template(
        "intake/keys.html",
        public_key=acknowledgements.public_key(ctx),
        roots=roster_work.public_roots(ctx),
    )


@bp.get("/signing-key")
def signing_key():
    """The installation's public signing key, to check acknowledgements with."""
    return render_template(
        "intake/signing_key.html", public_key=acknowledgements.public_key(portal_context())
    )
