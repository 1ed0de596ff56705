"""The service directory: `service.json` lists the organisations (slug, name, created day), and
`organisations/<slug>/` is each one's own data directory, exactly what a single installation has.

Layout:
    DIR/service.json              {"organisations": [{"slug", "name", "created", "id"}, ...],
                                   "hosts": {host name: slug}, "host_only": [slug, ...],
                                   "service_hosts": [host name, ...]}   (the last three optional)
    DIR/organisations/<slug>/     an installation made as `portal init` makes one
    DIR/nowhere/                  an empty installation that answers for unknown slugs (dispatch.py)
    DIR/operator/                 the operators' accounts and the service's audit (operator.py)
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from portal.core.clock import today
from portal.core.installation_file import installation_lock, write_private_json
from portal.core.words import N_, Sentence
from portal.operations.installing import make_installation
from portal.service import operator
from portal.store.db import database_url

SERVICE_FILE = "service.json"
# Lower-case letters, digits and inner hyphens, up to 40: a path segment that needs no escaping.
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
NOWHERE = "nowhere"
# A DNS name of two labels or more, lower-case (each label 1 to 63 letters, digits, inner hyphens).
HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)


class ServiceError(Exception):
    """A service directory missing or already made, a slug malformed or taken (its message says
    which, in plain words)."""


@dataclass(frozen=True)
class Organisation:
    slug: str
    name: str
    created: str  # YYYY-MM-DD, the service's day (Pacific/Auckland)
    # The service audit's name for it (`org-` and 16 hex digits, random): entries name this, not
    # the slug, so that once it is erased nothing in the service says which organisation it was.
    id: str = ""


def _new_id() -> str:
    return "org-" + secrets.token_hex(8)


def _refuse_one_shared_database() -> None:
    """A service keeps each organisation in a database of its own (issue 29: isolation by
    construction). PORTAL_DATABASE_URL names one database for the whole process, so every member
    would share it: refused until a database per organisation exists (docs/deploy.md §9)."""
    if database_url() is not None:
        raise ServiceError(N_(
            "A service of many organisations runs on SQLite only for now: PORTAL_DATABASE_URL "
            "would put every organisation in one database. Unset it for the service."
        ))


def _read(service_dir: Path) -> dict:
    _refuse_one_shared_database()
    path = service_dir / SERVICE_FILE
    if not path.exists():
        raise ServiceError(Sentence(
            N_(
                "%(service_dir)s is not a service directory; run `portal service init`."
            ),
            service_dir=service_dir,
        ))
    return json.loads(path.read_text())


def create_service(service_dir: Path, *, insecure_fast_kdf: bool = False) -> None:
    """Make an empty service directory (0700). Raises ServiceError if one is there already, or
    with PORTAL_DATABASE_URL set (`_refuse_one_shared_database`)."""
    _refuse_one_shared_database()
    if (service_dir / SERVICE_FILE).exists():
        raise ServiceError(Sentence(
            N_(
                "%(service_dir)s is already a service directory; refusing to overwrite."
            ),
            service_dir=service_dir,
        ))
    service_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (service_dir / "organisations").mkdir(mode=0o700, exist_ok=True)
    make_installation(service_dir / NOWHERE, insecure_fast_kdf=insecure_fast_kdf)
    operator.ensure_operator_installation(service_dir, insecure_fast_kdf=insecure_fast_kdf)
    write_private_json(service_dir / SERVICE_FILE, {"organisations": []})


def create_organisation(
    service_dir: Path, slug: str, name: str, *, insecure_fast_kdf: bool = False
) -> Organisation:
    """Register an organisation and make its data directory; audited in the service's chain.
    Raises ServiceError for a malformed or taken slug, an empty name, or a directory that is not a
    service's."""
    made = register_organisation(
        service_dir,
        slug,
        name,
        lambda data_dir: make_installation(data_dir, insecure_fast_kdf=insecure_fast_kdf),
    )
    operator.record(service_dir, "organisation_add", {"organisation": made.id})
    return made


def register_organisation(
    service_dir: Path, slug: str, name: str, make: Callable[[Path], None]
) -> Organisation:
    """Under the service's lock: check the slug and name, call `make(data_dir)` to put the
    organisation's data directory in place (nothing is registered if it raises), then register
    it. ServiceError as create_organisation (not audited here: the caller records what it did)."""
    if not SLUG.fullmatch(slug) or slug == NOWHERE:
        raise ServiceError(
            Sentence(
                N_(
                    "A slug is 1 to 40 lower-case letters, digits and hyphens, not starting"
                    " or ending with a hyphen (and not '%(nowhere)s')."
                ),
                nowhere=NOWHERE,
            )
        )
    if not name.strip():
        raise ServiceError(N_("An organisation needs a name."))
    with installation_lock(service_dir):
        document = _read(service_dir)
        if any(entry["slug"] == slug for entry in document["organisations"]):
            raise ServiceError(Sentence(
                N_(
                    "There is already an organisation '%(slug)s'."
                ),
                slug=slug,
            ))
        make(data_dir_of(service_dir, slug))
        entry = {
            "slug": slug,
            "name": name.strip(),
            "created": today("Pacific/Auckland"),
            "id": _new_id(),
        }
        document["organisations"].append(entry)
        write_private_json(service_dir / SERVICE_FILE, document)
    return Organisation(**entry)


def organisations(service_dir: Path) -> list[Organisation]:
    """Every registered organisation, in the order made. ServiceError if not a service directory."""
    return [Organisation(**entry) for entry in _read(service_dir)["organisations"]]


def organisation(service_dir: Path, slug: str) -> Organisation:
    """The registered organisation `slug`, with its service id (given now, and kept, to one
    registered before ids existed). ServiceError if there is none."""
    with installation_lock(service_dir):
        document = _read(service_dir)
        for entry in document["organisations"]:
            if entry["slug"] == slug:
                if not entry.get("id"):
                    entry["id"] = _new_id()
                    write_private_json(service_dir / SERVICE_FILE, document)
                return Organisation(**entry)
    raise ServiceError(Sentence(N_("There is no organisation '%(slug)s'."), slug=slug))


def remove_organisation(service_dir: Path, slug: str, take_away: Callable[[Path], None]) -> None:
    """Under the service's lock: call `take_away(data_dir)` (which moves the organisation's data
    directory out of the way; nothing is changed if it raises), then forget the organisation and
    its host names. ServiceError if there is none."""
    with installation_lock(service_dir):
        document = _read(service_dir)
        if slug not in {entry["slug"] for entry in document["organisations"]}:
            raise ServiceError(Sentence(N_("There is no organisation '%(slug)s'."), slug=slug))
        take_away(data_dir_of(service_dir, slug))
        document["organisations"] = [e for e in document["organisations"] if e["slug"] != slug]
        if "hosts" in document:
            document["hosts"] = {h: s for h, s in document["hosts"].items() if s != slug}
        if "host_only" in document:
            document["host_only"] = [s for s in document["host_only"] if s != slug]
        write_private_json(service_dir / SERVICE_FILE, document)


@dataclass(frozen=True)
class Routing:
    """How requests reach organisations (dispatch.py): `hosts` maps a member's own host name to
    its slug; a slug in `host_only` is served at its host names only (its /o/<slug>/ answers as an
    unknown slug does); `service_hosts`, when not empty, are the only other names served (the
    service's own: /o/<slug>/ and /service/), any other host getting the unknown-slug page."""

    hosts: dict[str, str]
    host_only: frozenset[str]
    service_hosts: frozenset[str]


def routing(service_dir: Path) -> Routing:
    """The host names of the registry. ServiceError if not a service directory."""
    document = _read(service_dir)
    return Routing(
        dict(document.get("hosts", {})),
        frozenset(document.get("host_only", [])),
        frozenset(document.get("service_hosts", [])),
    )


def _host_name(host: str) -> str:
    name = host.strip().lower().rstrip(".")
    if not HOST_NAME.fullmatch(name):
        raise ServiceError(Sentence(
            N_(
                "'%(host)s' is not a host name (such as pd.north.govt.nz)."
            ),
            host=host,
        ))
    return name


def set_host(service_dir: Path, slug: str, host: str, *, only: bool = False) -> str:
    """Serve organisation `slug` at `host` as well as at /o/<slug>/ (or, `only`, instead of it);
    returns the host name as kept (lower case, no final dot). Audited in the service's chain.
    ServiceError for an unknown slug, a malformed host name, or one another organisation or the
    service itself has."""
    name = _host_name(host)
    with installation_lock(service_dir):
        document = _read(service_dir)
        if slug not in {entry["slug"] for entry in document["organisations"]}:
            raise ServiceError(Sentence(N_("There is no organisation '%(slug)s'."), slug=slug))
        hosts = document.setdefault("hosts", {})
        if hosts.get(name, slug) != slug or name in document.get("service_hosts", []):
            raise ServiceError(Sentence(
                N_(
                    "The host name %(name)s is already in use on this service."
                ),
                name=name,
            ))
        hosts[name] = slug
        host_only = set(document.get("host_only", [])) - {slug}
        document["host_only"] = sorted(host_only | ({slug} if only else set()))
        write_private_json(service_dir / SERVICE_FILE, document)
    operator.record(
        service_dir,
        "organisation_host",
        {"organisation": organisation(service_dir, slug).id, "host": name, "only": only},
    )
    return name


def set_service_host(service_dir: Path, host: str) -> str:
    """Name one of the service's own host names (where /o/<slug>/ and /service/ are): once one
    is named, a request to a host that is neither the service's nor a member's gets the
    unknown-slug page. Returns the name as kept. ServiceError as set_host."""
    name = _host_name(host)
    with installation_lock(service_dir):
        document = _read(service_dir)
        if name in document.get("hosts", {}):
            raise ServiceError(Sentence(
                N_(
                    "The host name %(name)s is already in use on this service."
                ),
                name=name,
            ))
        document["service_hosts"] = sorted(set(document.get("service_hosts", [])) | {name})
        write_private_json(service_dir / SERVICE_FILE, document)
    operator.record(service_dir, "service_host", {"host": name})
    return name


def data_dir_of(service_dir: Path, slug: str) -> Path:
    """Where an organisation's data directory is (whether or not it is registered)."""
    return service_dir / "organisations" / slug
