"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

import re

from tests.support.workflow import (
    today,  # noqa: F401  (today is a fixture)
)


def authority_id(page: str, name: str) -> str:
    m = re.search(rf'<option value="([0-9]+)">{re.escape(name)}</option>', page)
    assert m, f"{name} is not offered"
    return m.group(1)
