"""Turns for new cases past the day's budget (`cases_per_day`): the budget spread over the day.

Past the budget a proof of work cannot ration a flood (the page's script is never asked past
`pow_script_max_bits`, milliseconds for native code) and nor can the no-script line (its
`tickets_per_minute` turns are there for status checks and ordinary disclosers: 1,800 cases an hour
for no work at all; issue 22, fresh review, H1). So, past it, every new disclosure, with script or
without, also takes a turn from this line of its own, given at `cases_per_day` a day (a turn every
86,400 / `cases_per_day` seconds) with a burst of BURST: one that finds no turn free is told when to
come back (NoTurnYet, the "come back at" page that keeps what was typed), and nothing is refused
outright. Status checks and replies never take these turns.

The line is one number, the second from which the next turn but BURST - 1 is free (the generic cell
rate algorithm), shared by every process like the no-script line (portal.guard.tickets: /dev/shm,
never the disk; on PostgreSQL a sealed row), and holds nothing of who took a turn. Whole seconds:
nothing finer is needed."""

from __future__ import annotations

from array import array

from portal.core.config import Settings
from portal.guard import tickets

BURST = 3  # turns that may be taken at once after the line has been idle for BURST turns
PURPOSE = "new-cases"


class NoTurnYet(tickets.NotYet):
    """No turn for a new case is free: come back in `retry_after` seconds (the page gives a new
    ticket, good until then: portal.web.intake.payment)."""


def step_seconds(settings: Settings) -> int:
    """Seconds between turns: the day's budget spread over the day (at least 1)."""
    return max(1, 86400 // max(1, settings.cases_per_day))


class _Turns:
    def __init__(self, raw: bytes, settings: Settings, now_ms: int) -> None:
        self.values = array("q", raw[:8] if len(raw) >= 8 else bytes(8))
        self.now, self.step = now_ms // 1000, step_seconds(settings)
        if self.values[0] > self.now + (BURST + 1) * self.step:  # the clock went back
            self.values[0] = 0

    def wait(self) -> int:
        """Seconds until a turn is free (0: now)."""
        return max(0, max(self.values[0], self.now) - (BURST - 1) * self.step - self.now)

    def take(self) -> int:
        """Take a turn if one is free (0), else the seconds until one is."""
        wait = self.wait()
        if not wait:
            self.values[0] = max(self.values[0], self.now) + self.step
        return wait

    def raw(self) -> bytes:
        return self.values.tobytes()


def _line(settings: Settings) -> tickets._SharedLine:
    return tickets._SharedLine(settings, PURPOSE)


def wait(settings: Settings) -> int:
    """Seconds until a turn for a new case is free (0: now); takes none."""
    return _line(settings).update(lambda turns: turns.wait(), _Turns)


def take(settings: Settings) -> int:
    """Take a turn for a new case: 0 when taken, else the seconds until one is free."""
    return _line(settings).update(lambda turns: turns.take(), _Turns)
