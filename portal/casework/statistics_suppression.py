"""Small-count suppression for statistics (SECURITY.md, "Statistics"): a count from 1 to 4 is shown
as "<5", a cell that the others and the total would give away is hidden too, and a median of fewer
than five cases is not shown.
"""

from __future__ import annotations

import statistics as pystats

from portal.core.words import N_

SMALL = 5  # counts below this (and above 0) are hidden
LESS_THAN = "<5"
SUPPRESSED = N_("suppressed")


def _revealed(counts: dict[str, int], hidden: set[str], secondary: set[str], total: int) -> bool:
    """Whether the shown cells and total pin down any hidden cell's value (each hidden primary cell
    lies in 1..4, each secondary one in 5..)."""
    if not hidden and not secondary:
        return False
    masked = hidden | secondary
    rest = total - sum(v for k, v in counts.items() if k not in masked)
    bounds = {k: (1, SMALL - 1) if k in hidden else (SMALL, rest) for k in masked}
    for k, (lo, hi) in bounds.items():
        others_lo = sum(b[0] for j, b in bounds.items() if j != k)
        others_hi = sum(b[1] for j, b in bounds.items() if j != k)
        if max(lo, rest - others_hi) == min(hi, rest - others_lo):
            return True
    return False


def suppress(counts: dict[str, int], total: int) -> tuple[dict[str, str], bool]:
    """The counts as shown, and whether the total must be hidden too. Primary: 1 to 4 as "<5".
    Secondary: while a hidden cell could be worked out from the rest, hide the smallest cell still
    shown ("suppressed"); when no cell is left to hide, hide the total instead."""
    hidden = {k for k, v in counts.items() if 0 < v < SMALL}
    secondary: set[str] = set()
    if total < SMALL:
        return _shown(counts, hidden, secondary), False  # every count and the total are "<5" or 0
    while _revealed(counts, hidden, secondary, total):
        shown = sorted((v, k) for k, v in counts.items() if v >= SMALL and k not in secondary)
        if not shown:
            return _shown(counts, hidden, secondary), True
        secondary.add(shown[0][1])
    return _shown(counts, hidden, secondary), False


def _shown(counts: dict[str, int], hidden: set[str], secondary: set[str]) -> dict[str, str]:
    return {
        k: LESS_THAN if k in hidden else SUPPRESSED if k in secondary else str(v)
        for k, v in counts.items()
    }


def show_total(total: int, hide: bool) -> str:
    if hide:
        return SUPPRESSED
    return LESS_THAN if 0 < total < SMALL else str(total)


def shown_median(values: list[int]) -> str:
    if len(values) < SMALL:
        return N_("not shown (fewer than 5 cases)")
    return f"{pystats.median(values):g}"


# The edges of the buckets a count is shown in where only its size matters (the service operator's
# figures per organisation, portal.service.counts): 5-9, 10-19, 20-49, 50-99, 100-199, ...
_BUCKET_STEPS = (1, 2, 5)


def bucket(count: int) -> str:
    """A count as a range: 0, "<5" (as `show_total`), then "5–9", "10–19", "20–49", "50–99",
    "100–199" and so on (1, 2, 5 times a power of ten), so that a change of one case moves the
    figure only where it crosses an edge."""
    if count < SMALL:
        return show_total(count, False)
    power = 1
    while True:
        for step in _BUCKET_STEPS:
            low, high = step * power, _next_edge(step, power)
            if low <= count < high:
                return f"{low}–{high - 1}"
        power *= 10


def _next_edge(step: int, power: int) -> int:
    index = _BUCKET_STEPS.index(step)
    return _BUCKET_STEPS[index + 1] * power if index + 1 < len(_BUCKET_STEPS) else 10 * power


def is_count(shown: str) -> bool:
    return shown.isdigit()
