"""Counting what a request costs: the SQL statements it runs (sqlite3's trace callback on each
connection the app opens) and the keys it opens (crypto.open_sealed calls)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import crypto
import portal.web.context as web_context


@dataclass
class Counts:
    statements: list[str] = field(default_factory=list)
    keys_opened: int = 0

    def reset(self) -> None:
        self.statements.clear()
        self.keys_opened = 0


@contextlib.contextmanager
def counting(monkeypatch):
    """Within it, every connection the app opens reports its statements to the Counts yielded."""
    counts = Counts()
    connect, open_sealed = web_context.connect, crypto.open_sealed

    def traced(path, *args, **kwargs):
        db = connect(path, *args, **kwargs)
        db.conn.set_trace_callback(counts.statements.append)
        return db

    def counted(private_key, sealed, *more):
        counts.keys_opened += 1
        return open_sealed(private_key, sealed, *more)

    with monkeypatch.context() as patch:
        patch.setattr(web_context, "connect", traced)
        patch.setattr(crypto, "open_sealed", counted)
        yield counts
