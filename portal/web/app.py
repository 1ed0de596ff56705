"""The Flask application factory: configuration, security headers, per-request storage,
blueprints."""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path

from flask import Flask, Request, g, make_response, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect

from portal.casework import referrals
from portal.core import resources, workdays
from portal.core.config import Settings, load_settings
from portal.core.context import Context
from portal.core.text import count_of, typed
from portal.core.words import in_sentence, sentence_parts
from portal.guard import flood, upload_slots, work_queues, work_slots
from portal.intake.cases import EXAMPLE_REF
from portal.keys import credentials, sessions
from portal.records.casefiles import CaseNotFound
from portal.store import blob_store, faults, open_database
from portal.web import fault_pages, languages, page_marks
from portal.web.context import portal_context
from portal.web.intake import sealed_refusals
from portal.web.intake.sealing_words import fault_words

csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The static pages that seal in the discloser's browser (issue 27; docs/sealed-submission.md).
SEALING_PAGES = frozenset({"/static/seal/disclose.html", "/static/seal/status.html"})
SEALING_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


class _DiscardedFile(io.RawIOBase):
    """Where werkzeug would spool an uploaded file: nowhere. Real uploads stream through
    portal.intake.uploads."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)


class PortalRequest(Request):
    # A file sent to a route that does not expect one is dropped in memory, never written to disk.
    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        return _DiscardedFile()


# Every error a person can meet, in plain words. CaseNotFound answers exactly like a missing page,
# so nobody learns whether a case exists.
ERROR_PAGES = {
    CSRFError: (
        400,
        _l("This form has expired"),
        _l(
            "For your safety, this form could not be accepted. Go back, reload the page and send it"
            " again."
        ),
    ),
    CaseNotFound: (404, _l("Page not found"), _l("There is nothing at this address.")),
    400: (
        400,
        _l("This request could not be used"),
        _l(
            "What was sent could not be read as this page's form. Go back, reload the page and try"
            " again."
        ),
    ),
    404: (404, _l("Page not found"), _l("There is nothing at this address.")),
    405: (405, _l("Not allowed"), _l("This page cannot be used that way.")),
    413: (413, _l("Too large"), _l("What you sent is larger than this portal accepts.")),
    500: (
        500,
        _l("Something went wrong"),
        _l("The portal could not finish this request. Nothing was stored. Please try again later."),
    ),
}


def _error_page(status: int, title: str, message: str):
    def handler(exc):
        return render_template("error.html", title=title, message=message), status

    return handler


def _start_up_write(app: Flask, what: str, work, *args) -> None:
    """Start-up housekeeping that writes: a storage fault (a full disk, a locked database) is said
    and the portal serves on, read-only where it must (docs/deploy.md), rather than not at all."""
    fault = faults.put_off(work, *args)
    if fault is not None:
        app.logger.warning(
            "Start-up could not finish %s (storage fault: %s); serving on, and it is done at the"
            " next start.", what, fault.kind
        )


def create_app(data_dir: Path | None = None, *, settings: Settings | None = None) -> Flask:
    if settings is None:
        settings = load_settings(Path(data_dir or "instance"))
    app = Flask(
        "portal",
        template_folder=str(resources.templates_dir()),
        static_folder=str(resources.static_dir()),
    )
    app.request_class = PortalRequest
    # Start-up work, once per process: bring the schema up to date and ready the blob folder. The
    # directory of appropriate authorities ships with the portal: filled once, then the
    # administrators'.
    start_db = open_database(settings.database_path, settings.busy_timeout_seconds)
    app.extensions["portal_blobs"] = blob_store(settings.blob_dir)
    start_ctx = Context(settings, start_db, app.extensions["portal_blobs"])
    _start_up_write(app, "filling the authorities", referrals.seed_directory, start_ctx)
    # No ended session's row outlives a restart.
    _start_up_write(app, "removing ended sessions", sessions.purge_expired, start_db)
    start_db.conn.close()
    # The reserved lane's threads, made by this thread (a worker's main thread under `portal
    # serve`) so they keep its priority (portal.guard.work_queues).
    work_queues.start(settings)
    # The decoy for unknown emails costs one Argon2id run now, not on the first unknown sign-in.
    credentials.prepare_decoy(settings)
    cookie_prefix = "__Host-" if settings.secure_cookies else ""
    app.config.update(
        SECRET_KEY=settings.secret_key,
        PORTAL_SETTINGS=settings,
        SESSION_COOKIE_NAME=cookie_prefix + "pd_form",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # A discloser may write for hours: the form's token is tied to the cookie, not to a clock.
        WTF_CSRF_TIME_LIMIT=None,
        # With Referrer-Policy: no-referrer browsers send no Referer, so flask-wtf's HTTPS Referer
        # check would refuse every form; the token and SameSite=Strict cookies carry the protection.
        WTF_CSRF_SSL_STRICT=False,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        PORTAL_STATUS_COOKIE=cookie_prefix + "pd_status",
        PORTAL_CONSOLE_COOKIE=cookie_prefix + "pd_console",
        PORTAL_DEVICE_COOKIE=cookie_prefix + "pd_device",
        # The page's language and nothing else, ending with the browser (portal.web.languages).
        PORTAL_LANG_COOKIE=cookie_prefix + "lang",
    )
    # The development server's request log records client addresses; never let it speak.
    logging.getLogger("werkzeug").disabled = True
    csrf.init_app(app)
    # The page's language: cookie, Accept-Language, the default (portal.web.languages).
    # Views that read their own body, or show what no GET can, handle the form's language button.
    app.config["OWN_LANGUAGE_BUTTON"] = STREAMING_ENDPOINTS | {"discloser.confirm_receipt"}
    languages.init_app(app)

    from portal.web.casework import case_record, confidentiality, console, oral, statistics
    from portal.web.casework import sign_in as console_sign_in
    from portal.web.intake import disclose, discloser, sealed, status_pages
    from portal.web.keys import access, enrol, own_keys, roster
    from portal.web.operations import admin, audit_log, retention

    app.register_blueprint(discloser.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit_log.bp)
    app.register_blueprint(statistics.bp)
    app.register_blueprint(confidentiality.bp)
    app.register_blueprint(oral.bp)
    app.register_blueprint(case_record.bp)
    app.register_blueprint(enrol.bp)
    app.register_blueprint(access.bp)
    app.register_blueprint(roster.bp)
    app.register_blueprint(own_keys.bp)
    app.register_blueprint(retention.bp)
    # These check the token through their form, after reading the body, so that a refused form can
    # still give back what was typed (portal.web.carry).
    csrf.exempt(disclose.disclose_post)
    csrf.exempt(status_pages.status_reply)
    csrf.exempt(disclose.confirm_receipt)
    # A sealed body is JSON; these check the token in its header before the body is read, so a
    # form body sent to them is refused unparsed (portal.web.intake.sealed).
    for view in (
        sealed.sealed_disclose,
        sealed.sealed_status,
        sealed.sealed_reply,
        sealed.sealed_upload_begin,
        sealed.sealed_upload_part,
    ):
        csrf.exempt(view)
    # Signing out must work even when the page's token went stale: a forged sign-out harms nobody, a
    # sign-out that silently fails leaves a session open on a shared computer.
    csrf.exempt(console_sign_in.logout)
    csrf.exempt(status_pages.status_logout)
    # One way of showing text a person typed, everywhere (portal.core.text).
    app.add_template_filter(typed, "typed")
    app.add_template_filter(count_of, "count_of")
    # Dates and sizes as people write them, in the page's language (portal.core.words,
    # portal.web.languages).
    languages.add_locale_filters(app)
    app.add_template_filter(in_sentence, "in_sentence")
    app.add_template_filter(sentence_parts, "sentence_parts")
    app.add_template_global(EXAMPLE_REF, "example_ref")  # one example of a case reference
    # The two-tab rule's hidden field, for a form written out by hand (portal.web.page_marks).
    app.add_template_global(page_marks.hidden_field, "page_mark_field")

    @app.teardown_appcontext
    def _close_db(exc) -> None:
        ctx = g.pop("portal_ctx", None)
        if ctx is not None:
            ctx.db.conn.close()

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        # The disclosure and status forms run one same-origin script, the proof of work
        # (static/proof.js, portal/web/intake/payment.py); every other page runs none.
        policy = CONTENT_SECURITY_POLICY + ("; script-src 'self'" if g.get("page_script") else "")
        if request.path in SEALING_PAGES:
            # The sealing pages (static/seal/*.html) run their same-origin modules and fetch the
            # sealed routes' JSON from this origin; nothing else, and they post no form.
            policy = SEALING_PAGE_POLICY
        headers.setdefault("Content-Security-Policy", policy)
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = (
            "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        if settings.onion_address:
            # Tor Browser offers the onion service to a visitor on the clearnet site (Tor Project's
            # Onion-Location specification); it only heeds the header on an HTTPS page.
            headers["Onion-Location"] = (
                f"http://{settings.onion_address}{request.full_path.rstrip('?')}"
            )
        if settings.secure_cookies:
            # Served over TLS (the proxy terminates it): browsers must never fall back to plain
            # HTTP.
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response

    for code_or_exception, (status, title, message) in ERROR_PAGES.items():
        app.register_error_handler(code_or_exception, _error_page(status, title, message))

    # The last year whose working days are known (pages name it where a deadline cannot be counted).
    app.jinja_env.globals["last_known_year"] = workdays.LAST_KNOWN_YEAR

    @app.context_processor
    def _storage_notice():
        # Every page says so while disclosures pause for want of space (portal.web.fault_pages).
        return {"storage_notice": fault_pages.storage_notice(settings)}

    @app.errorhandler(OSError)
    @app.errorhandler(sqlite3.Error)
    def _fault(exc):
        # A locked database, a full disk, a missing file, a dead dependency: said plainly, with
        # what was typed and when to try again (portal.web.fault_pages); anything else is a bug.
        fault = faults.classify(exc)
        if fault is None:
            app.logger.error("Unhandled error", exc_info=exc)
            return _error_page(*ERROR_PAGES[500])(exc)
        app.logger.warning("Request ended by a fault: %s (%s)", fault.kind, type(exc).__name__)
        if (request.endpoint or "").startswith("discloser.sealed_"):
            # The sealing pages' scripts read JSON (static/seal/page.js): the same words, in the
            # refusal's message, and when to try again.
            return sealed_refusals.error(
                503, f"storage-{fault.kind}", fault_words(fault.kind, fault.retry_after),
                fault.retry_after,
            )  # fmt: skip
        return fault_pages.fault_response(fault.kind, fault.retry_after)

    @app.errorhandler(work_slots.Busy)
    def _busy(exc: work_slots.Busy):
        flood.note(portal_context(), "busy")  # a day's count for the officers' console
        # Every key-derivation slot stayed taken: a short wait, never a lock-out (SECURITY.md,
        # "Budgets").
        response = make_response(
            render_template(
                "error.html",
                title=gettext("The portal is busy"),
                message=gettext(
                    "Many people are using the portal just now. Nothing was changed. Please try"
                    " again in a few seconds."
                ),
            ),
            503,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        # Answered before the body was read: the connection closes after the answer, and the worker
        # reads and throws away what the client still sends, up to a bound (slow_clients).
        response.headers["Connection"] = "close"
        return response

    def _refuse_oversized_body():
        # Declared larger than any submission can be, or than any form of this route: refused before
        # a byte of it is read.
        limit = (
            settings.max_request_bytes
            if request.endpoint in STREAMING_ENDPOINTS
            else MAX_FORM_BYTES
        )
        if (request.content_length or 0) > limit:
            response = make_response(
                render_template(
                    "error.html",
                    title=gettext("Too large"),
                    message=gettext("What you sent is larger than this portal accepts."),
                ),
                413,
            )
            response.headers["Connection"] = "close"
            return response
        # A body too large for the main loop to have read (slow_clients) is read by this thread:
        # only a few at once (the streaming routes take their slot themselves, to answer in their
        # own words).
        if request.endpoint not in STREAMING_ENDPOINTS and _body_read_by_thread():
            slot = upload_slots.upload(settings, request.content_length)
            holder = slot.__enter__()  # Busy: 503 before the body is read (_busy)
            g.body_slot = slot
            if holder is not None:  # pre-empted below the useful rate: Preempted, so _busy
                request.environ["wsgi.input"] = upload_slots.CountedInput(
                    request.environ["wsgi.input"], holder
                )

    # First of all before-request work: the CSRF check reads the form, so the body, and must come
    # after.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_oversized_body)

    @app.teardown_request
    def _release_body_slot(_exc):
        slot = g.pop("body_slot", None)
        if slot is not None:
            slot.__exit__(None, None, None)

    return app


# The routes that stream their body to disk (files); every other form is read whole, up to
# MAX_FORM_BYTES (an officer's longest reply, URL-encoded, with room to spare).
STREAMING_ENDPOINTS = frozenset({"discloser.disclose_post", "discloser.status_reply"})
MAX_FORM_BYTES = 4 * 1024 * 1024


def _body_read_by_thread() -> bool:
    if request.headers.get("Transfer-Encoding"):
        return True
    return (request.content_length or 0) > work_slots.SMALL_BODY_BYTES
