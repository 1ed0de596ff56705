"""Counting what a request costs: the SQL statements it runs (sqlite3's trace callback on each
connection the app opens) and the case keys it opens (crypto.open_sealed calls, each box of
crypto.open_sealed_many, and crypto.open_copy calls: an officer's key copy, written at sign-in)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import crypto
import portal.web.context as web_context
from tests.support import database


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
    open_many, open_copy = crypto.open_sealed_many, crypto.open_copy

    def traced(path, *args, **kwargs):
        db = connect(path, *args, **kwargs)
        database.on_each_statement(db, counts.statements.append)
        return db

    def counted(private_key, sealed, *more):
        counts.keys_opened += 1
        return open_sealed(private_key, sealed, *more)

    def counted_many(private_key, boxes, *more):
        counts.keys_opened += len(boxes)
        return open_many(private_key, boxes, *more)

    def counted_copy(*args):
        counts.keys_opened += 1
        return open_copy(*args)

    with monkeypatch.context() as patch:
        patch.setattr(web_context, "connect", traced)
        patch.setattr(crypto, "open_sealed", counted)
        patch.setattr(crypto, "open_sealed_many", counted_many)
        patch.setattr(crypto, "open_copy", counted_copy)
        yield counts
