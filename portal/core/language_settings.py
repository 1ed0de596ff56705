"""The pages' languages from installation.json or the environment (docs/translating.md)."""
from __future__ import annotations

import os


def language_settings(document: dict) -> dict:
    """default_language and languages from installation.json, or PORTAL_DEFAULT_LANGUAGE and
    PORTAL_LANGUAGES ("en,mi"); the default is always offered."""
    default = os.environ.get("PORTAL_DEFAULT_LANGUAGE", document.get("default_language", "en"))
    listed = os.environ.get("PORTAL_LANGUAGES")
    codes = listed.split(",") if listed else document.get("languages", [default])
    codes = [code.strip() for code in codes if code.strip()]
    return {"default_language": default, "languages": tuple(dict.fromkeys([default, *codes]))}
