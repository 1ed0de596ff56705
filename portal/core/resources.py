"""Where the templates and static files are: inside the installed package (wheel), else the source
tree."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the portal package


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the portal's {name}/ folder")


def templates_dir() -> Path:
    return _find("templates")


def static_dir() -> Path:
    return _find("static")


def authorities_file() -> Path:
    """The appropriate-authority directory shipped with the portal
    (portal/data/authorities.json)."""
    return _PACKAGE / "data" / "authorities.json"


def translations_dir() -> Path:
    """The message catalogues: portal/translations/<code>/LC_MESSAGES/messages.po and the .mo
    compiled from it at install (docs/translating.md). PORTAL_TRANSLATIONS names another folder of
    the same layout, for a translator previewing a catalogue or a test's pseudo-locale."""
    return Path(os.environ.get("PORTAL_TRANSLATIONS") or _PACKAGE / "translations")
