"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

import re

import crypto
from tests.conftest import run_cli

NOTE = "Internal: the invoices match the second supplier."


CONTACT = "ring me on 021 555 0199"


def new_recovery_key(data_dir) -> tuple[list[str], str]:
    out = run_cli(data_dir, "recovery-key", "new", "--threshold", "3", "--shares", "5").output
    shares = re.findall(r"^share [0-9] of 5: (.+)$", out, re.M)
    [public] = re.findall(r"^public key: ([0-9a-f]{64})$", out, re.M)
    assert len(shares) == 5 and len(set(shares)) == 5
    return shares, public


def opens(private_key: bytes, sealed: bytes) -> bool:
    try:
        crypto.open_sealed(private_key, sealed)
        return True
    except crypto.DecryptionError:
        return False
