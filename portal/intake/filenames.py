"""Attachment names: kept as the discloser chose them, made safe only where a download name must be.

What changes, and nothing else:
- Browsers escape three characters in a multipart file name (HTML's form encoding: `"` as %22, CR as
  %0D, LF as %0A); they are decoded back.
- A full path (sent by very old browsers) keeps only its last part; any other path separator (`/`,
  `\\`) is removed.
- Control characters (Unicode category Cc, line and paragraph separators) and bidirectional
  overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069), which can disguise `exe.pdf` as
  `fdp.exe`, are removed. Other invisible characters stay: zero-width joiners and non-joiners
  (U+200C, U+200D) are part of how many scripts and emoji are written.
- Surrounding spaces are trimmed; an empty name, `.` or `..` becomes "attachment".
- A name over MAX_NAME_BYTES (255 bytes of UTF-8, what file systems allow) is shortened in its stem,
  at a character boundary, keeping its extension.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 255
MAX_EXTENSION_BYTES = 32
FALLBACK = "attachment"

_BROWSER_ESCAPES = {"%22": '"', "%0D": "\r", "%0A": "\n", "%0d": "\r", "%0a": "\n"}
_ESCAPED = re.compile("|".join(re.escape(k) for k in _BROWSER_ESCAPES))
_DIRECTION_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_FULL_PATH = re.compile(r"^(?:[A-Za-z]:\\|\\\\)|/")


def _removed(ch: str) -> bool:
    return (
        ch in _DIRECTION_CONTROLS
        or ch in "/\\"
        or unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs")
    )


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) + 1 > MAX_EXTENSION_BYTES or " " in extension:
        stem, extension = name, ""
    suffix = "." + extension if extension else ""
    budget = MAX_NAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:budget].decode("utf-8", errors="ignore")
    # Do not end on a joiner or a combining mark left without what it joins.
    stem = stem.rstrip("\u200c\u200d").rstrip(" ")
    while stem and unicodedata.combining(stem[-1]):
        stem = stem[:-1]
    return (stem or FALLBACK) + suffix


def clean_filename(sent: str) -> str:
    """The name to store for a file sent as `sent` (see the module docstring); at most 255 UTF-8
    bytes."""
    name = _ESCAPED.sub(lambda m: _BROWSER_ESCAPES[m.group(0)], sent or "")
    if _FULL_PATH.search(name):
        name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if not _removed(ch)).strip()
    if name in ("", ".", ".."):
        return FALLBACK
    return _shorten(name)
