"""Which page a form was on: the mark a page's forms carry, so that a form acts on what its page
showed and not on whatever the browser's session holds when it is sent (two tabs, two cases, or a
passphrase changed in another window).

A console page's mark names the signed-in account and the state of its credentials (key pair,
wrapped private key, second factor): signing in as someone else, or changing the passphrase or the
second factor, makes every page shown before it out of date. A discloser's status page's mark names
the disclosure it showed. Marks are keyed hashes (nothing about the account or the case can be read
from one) and are compared in constant time. portal.web.page_marks puts them in every form and
refuses a form whose mark is not the current one.
"""

from __future__ import annotations

import hashlib
import hmac

import crypto
from portal.core.context import Context


def _mark(ctx: Context, *parts: bytes | str) -> str:
    key = crypto.derive_subkey(ctx.settings.secret_key, "page-mark")
    message = b"\0".join(p.encode() if isinstance(p, str) else p for p in parts)
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def for_account(ctx: Context, account_id: int) -> str:
    """The mark of a console page shown to this account with its credentials as they are now."""
    row = ctx.db.execute(
        "SELECT public_key, wrapped_private_key, totp_secret FROM accounts WHERE id = ?",
        [account_id],
    ).fetchone()
    state = [bytes(row[0]), bytes(row[1]), row[2] or ""] if row else [b"", b"", ""]
    return _mark(ctx, "account", str(account_id), *state)


def for_disclosure(ctx: Context, case_id: str) -> str:
    """The mark of a discloser's status page showing this disclosure."""
    return _mark(ctx, "disclosure", case_id)


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
