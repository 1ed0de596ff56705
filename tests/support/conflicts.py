"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

import re

from tests.conftest import MARKER
from tests.support import (
    csrf_token,
    disclosure_fields,
    post_multipart,
)


def checkbox_value(page: str, name: str) -> str:
    m = re.search(rf'name="exclude" type="checkbox" value="([0-9]+)"> ?<label for="exclude-[0-9]+">{re.escape(name)}</label>', page)
    assert m, f"no exclude checkbox labelled {name}"
    return m.group(1)


def disclose_excluding(client, *names, details=MARKER, files=()):
    page = client.get("/disclose").text
    fields = disclosure_fields(csrf_token(page), details) + [("exclude", checkbox_value(page, n)) for n in names]
    return post_multipart(client, "/disclose", fields, files)
