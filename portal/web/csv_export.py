"""CSV exports from the console (audit log, statistics): cells that are safe to open in a
spreadsheet."""

from __future__ import annotations


def csv_cell(value) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
