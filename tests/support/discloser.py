"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

import os

from tests.conftest import MARKER
from tests.support import (
    csrf_token,
    disclosure_fields,
    post_multipart,
)

ATTACHMENT = os.urandom(3 * 1024 * 1024) + MARKER.encode() + os.urandom(1024)


def disclose(client, details=MARKER, files=(("attachments", "evidence.pdf", ATTACHMENT),), **overrides):
    token = csrf_token(client.get("/disclose").text)
    return post_multipart(client, "/disclose", disclosure_fields(token, details, **overrides), files)


def open_status(client, receipt):
    token = csrf_token(client.get("/status").text)
    return client.post("/status", data={"csrf_token": token, "receipt": receipt})
