"""CSV exports from the console (audit log, statistics): cells that are safe to open in a
spreadsheet, in a file the common spreadsheets read as written.

Every CSV download goes through `csv_download`: UTF-8 with a byte-order mark (without it Excel reads
a CSV in the machine's legacy code page, so "Manatū Hauora" shows as mojibake), `text/csv;
charset=utf-8`, rows ended with CR LF (RFC 4180) and every cell through `csv_cell`.
"""

from __future__ import annotations

import csv
import io
from typing import Iterable

from flask import Response

BYTE_ORDER_MARK = "\ufeff"


def csv_cell(value) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_download(rows: Iterable[Iterable], filename: str) -> Response:
    """A CSV file download of `rows`, as described in the module docstring."""
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    response = Response(out.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
