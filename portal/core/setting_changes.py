"""Settings an operator may change with `portal setting set NAME VALUE` (docs/configuration.md),
each with its parser, written to installation.json under the installation's lock."""

from __future__ import annotations

import json
from pathlib import Path

from portal.core.clock import time_of_day
from portal.core.config import onion_address
from portal.core.installation_file import INSTALLATION_FILE, installation_lock, write_installation
from portal.core.numbers import parse_whole_number
from portal.core.words import N_


def _yes_no(value: str) -> bool:
    if value.lower() not in ("yes", "no"):
        raise ValueError(N_("Give yes or no."))
    return value.lower() == "yes"


def _port(value: str) -> int:
    return parse_whole_number(value, minimum=1, maximum=65535)


def _session_seconds(value: str) -> int:
    return parse_whole_number(
        value, minimum=60, maximum=7 * 24 * 3600
    )  # NotAWholeNumber is a ValueError


CHANGEABLE = {
    "security_contact": str,
    "onion_address": onion_address,
    "officer_session_seconds": _session_seconds,
    "discloser_session_seconds": _session_seconds,
    "smtp_host": str,
    "smtp_port": _port,
    "smtp_starttls": _yes_no,
    "smtp_username": str,
    "smtp_password": str,
    "smtp_from": str,
    "public_url": str,
    "digest_time": lambda v: time_of_day(v).strftime("%H:%M"),
    "digest_counts": _yes_no,
    # Under a flood (docs/deploy.md, "Under a flood"): the proof of work's bits and the budgets.
    "pow_bits": lambda v: parse_whole_number(v, minimum=0, maximum=28),
    "pow_flood_bits": lambda v: parse_whole_number(v, minimum=0, maximum=28),
    "pow_max_bits": lambda v: parse_whole_number(v, minimum=0, maximum=28),
    "pow_lane_bits": lambda v: parse_whole_number(v, minimum=0, maximum=8),
    "pow_script_max_bits": lambda v: parse_whole_number(v, minimum=1, maximum=28),
    "cases_per_day": lambda v: parse_whole_number(v, minimum=1, maximum=10**6),
    "tickets_per_minute": lambda v: parse_whole_number(v, minimum=1, maximum=6000),
}


def change_setting(data_dir: Path, name: str, value: str) -> None:
    """Write one setting to installation.json (atomically, 0600). Raises ValueError for an unknown
    name or a value of the wrong kind."""
    if name not in CHANGEABLE:
        raise ValueError(
            f"{name!r} cannot be changed here; one of: {', '.join(sorted(CHANGEABLE))}."
        )
    parsed = CHANGEABLE[name](value.strip())
    if name.endswith("_seconds") and parsed < 60:
        raise ValueError(f"{name} must be at least 60 seconds.")
    with installation_lock(data_dir):
        document = json.loads((data_dir / INSTALLATION_FILE).read_text())
        document[name] = parsed
        write_installation(data_dir, document)
