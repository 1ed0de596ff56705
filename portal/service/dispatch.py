"""One WSGI application for every organisation of a service: a request to a member's own host name
(registry.set_host) goes to that organisation's own Flask app (portal.web.app.create_app on its own
data directory) as it is, and so does /o/<slug>/... at any other host; each app is made at its
first request and kept. /service/... goes to the service operator's pages (operator_pages.py);
anything else is 'not found'."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from flask import Flask

from portal.core.config import load_settings
from portal.service import operator_pages
from portal.service.member_referrals import Members
from portal.service.operator import operator_dir
from portal.service.registry import (
    NOWHERE,
    SERVICE_FILE,
    Routing,
    data_dir_of,
    organisations,
    routing,
)
from portal.web.app import create_app
from portal.web.casework.case_forms import MEMBER_REFERRALS

PREFIX = "/o/"
OPERATOR_PREFIX = "/service"
# The operator's cookies: an underscore is in no slug, so no organisation's cookie has this name.
_OPERATOR_KEY = "_service"
# A path no route of the portal has: asked of the empty installation, it gives the 404 page.
_NO_SUCH_PATH = "/o/not-a-page"
# The share of each queue's places and of the upload slots one organisation (or the operator's
# pages) may hold at once in a process (Settings.organisation_share): one's flood leaves half to
# the others, and all together are held to what one installation would be.
ORGANISATION_SHARE = 50
_COOKIE_NAMES = (
    "SESSION_COOKIE_NAME", "PORTAL_STATUS_COOKIE", "PORTAL_CONSOLE_COOKIE", "PORTAL_DEVICE_COOKIE",
    "PORTAL_LANG_COOKIE",
)  # fmt: skip


class ServiceApp:
    """The WSGI callable `service_app(service_dir)` returns. Thread-safe; one app per organisation
    per process."""

    def __init__(self, service_dir: Path, prepare: Callable[[Flask], Flask] | None = None) -> None:
        self.service_dir = Path(service_dir)
        self._prepare = prepare or (lambda app: app)
        self._apps: dict[str, Flask] = {}
        self._lock = threading.Lock()
        self._routing: tuple[tuple[int, int, int], Routing] | None = None

    def organisation_app(self, slug: str) -> Flask | None:
        """The organisation's Flask app, made once; None for a slug the registry does not have
        (read again at each miss, so an organisation made after start-up is served)."""
        app = self._apps.get(slug)
        if app is not None:
            return app
        if slug not in {org.slug for org in organisations(self.service_dir)}:
            return None
        return self._made(slug, data_dir_of(self.service_dir, slug))

    def _made(self, key: str, data_dir: Path) -> Flask:
        with self._lock:
            if key not in self._apps:
                if key == _OPERATOR_KEY:
                    app = operator_pages.operator_app(self.service_dir, ORGANISATION_SHARE)
                    suffix = key
                else:
                    # Every organisation served here is budgeted within the process's queues
                    # and upload slots (portal.guard.work_queues.organisation_budget).
                    settings = load_settings(data_dir, organisation_share=ORGANISATION_SHARE)
                    app = create_app(data_dir, settings=settings)
                    suffix = f"-{key or NOWHERE}"
                    if key:  # its officers may refer a case to another member's channel
                        app.config[MEMBER_REFERRALS] = Members(self.service_dir, key)
                # One browser may visit two organisations: each keeps its own cookies (all are
                # Path=/ under the __Host- prefix), instead of one's overwriting the other's.
                for name in _COOKIE_NAMES:
                    app.config[name] += suffix
                app.config["PORTAL_COOKIE_SUFFIX"] = suffix  # the tickets' (intake/payment.py)
                self._apps[key] = self._prepare(app)
            return self._apps[key]

    def _current_routing(self) -> Routing:
        """The registry's host names, read again whenever service.json has been replaced (one
        stat a request), so a host name given while the service runs is served at once, and an
        organisation erased meanwhile is forgotten."""
        stat = (self.service_dir / SERVICE_FILE).stat()
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._routing is None or self._routing[0] != stamp:
            self._routing = (stamp, routing(self.service_dir))
            # An organisation erased (portal.service.erasure) is served no more from here.
            kept = {org.slug for org in organisations(self.service_dir)} | {"", _OPERATOR_KEY}
            with self._lock:
                for gone in set(self._apps) - kept:
                    del self._apps[gone]
        return self._routing[1]

    def _not_found(self, environ, start_response, slug: str | None):
        """An unknown slug (or host: `slug` None) is answered by an empty installation of the
        service's own, with the path a known organisation has no page at: the same 404 page,
        headers and links, so nobody learns from the answer which slugs or host names are
        organisations (issue 29: members are never listed)."""
        app = self._made("", self.service_dir / NOWHERE)
        environ = dict(environ)
        if slug is not None:
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + slug
        environ["PATH_INFO"] = _NO_SUCH_PATH
        return app(environ, start_response)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or "/"
        known = self._current_routing()
        host = host_of(environ)
        member = known.hosts.get(host)
        if member is not None:
            # At its own host name an organisation's pages are at the root: no /o/<slug> in its
            # links, its cookies that host's only.
            app = self.organisation_app(member)
            if app is not None:
                return app(environ, start_response)
        if known.service_hosts and host not in known.service_hosts:
            return self._not_found(environ, start_response, None)
        if path == OPERATOR_PREFIX or path.startswith(OPERATOR_PREFIX + "/"):
            app = self._made(_OPERATOR_KEY, operator_dir(self.service_dir))
            environ = dict(environ)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + OPERATOR_PREFIX
            environ["PATH_INFO"] = path.removeprefix(OPERATOR_PREFIX) or "/"
            return app(environ, start_response)
        slug, _, rest = path.removeprefix(PREFIX).partition("/")
        if not path.startswith(PREFIX):
            slug, rest = "", ""
        # An organisation served at its host names only is not at /o/<slug>/; paths outside /o/
        # are not found either.
        app = self.organisation_app(slug) if slug and slug not in known.host_only else None
        if app is None:
            return self._not_found(environ, start_response, slug)
        environ = dict(environ)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + slug
        environ["PATH_INFO"] = "/" + rest
        return app(environ, start_response)


def host_of(environ) -> str:
    """The host name a request was sent to (its Host header, else the server's name): lower
    case, without a port or a final dot."""
    host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "").strip().lower()
    if host.startswith("["):  # an IPv6 address: [::1]:8080
        return host[: host.find("]") + 1]
    return host.partition(":")[0].rstrip(".")


def service_app(
    service_dir: Path, prepare: Callable[[Flask], Flask] | None = None
) -> ServiceApp:
    """The service's WSGI application (served by `portal service serve`, or tested with
    werkzeug.test.Client). `prepare` is applied to each Flask app once it is made (the served
    process hardens each: portal.web.server.harden_app). ServiceError at the first request if
    `service_dir` is not a service."""
    return ServiceApp(service_dir, prepare)
