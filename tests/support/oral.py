"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

from tests.conftest import MARKER
from tests.support import csrf_token


def record_oral(client, **overrides):
    token = csrf_token(client.get("/console/oral").text)
    fields = {"csrf_token": token, "channel": "Audit and Risk", "category": "public_funds",
              "summary": "Told in person: invoices paid twice", "details": f"Two invoices paid twice. {MARKER}",
              "disclosed_elsewhere": "no", "contact": "Phone only, evenings", **overrides}
    return client.post("/console/oral", data=fields)


def open_status(client, receipt):
    token = csrf_token(client.get("/status").text)
    return client.post("/status", data={"csrf_token": token, "receipt": receipt})
