"""The TOTP clock of a served portal, moved by its test (tests/operations/test_first_run.py): a
Python process whose PYTHONPATH holds this folder imports this module at start (Python's
`sitecustomize`), and with PORTAL_TEST_TOTP_CLOCK_FILE set, the portal's TOTP steps
(portal.keys.second_factor.seconds_now) and `portal demo code` read seconds since the epoch from
that file instead of the real clock, as the in-process tests' TotpClock does (tests/conftest.py).
The test writes the next step's time there instead of waiting 30 s for it. Only the TOTP clock
moves: sessions, audit entries and every other time stay real."""
from __future__ import annotations

import datetime as dt
import os

_FILE = os.environ.get("PORTAL_TEST_TOTP_CLOCK_FILE")

if _FILE:
    from portal.keys import second_factor
    from portal.operations import demo

    def _seconds() -> float:
        with open(_FILE) as clock:
            return float(clock.read())

    second_factor.seconds_now = _seconds
    _codes = demo.current_codes
    demo.current_codes = lambda data_dir, now=None: _codes(
        data_dir, now or dt.datetime.fromtimestamp(_seconds(), dt.timezone.utc))
