"""The signed roster in tests: a reader of the channel signs a newcomer's admission through the
domain functions the roster page calls (the issue's "domain-level helper that signs
confirmations"), so tests that add a second officer to a channel need no HTTP for it."""
from __future__ import annotations

from pathlib import Path

# Officers each test installation knows, by data directory, so a newcomer finds someone to vouch.
KNOWN: dict[Path, list] = {}


def remember(data_dir: Path, person) -> None:
    KNOWN.setdefault(Path(data_dir), []).append(person)


def vouch_for(data_dir: Path, newcomer) -> int:
    """Every pending admission of `newcomer`, signed by a known officer the roster admits.
    Returns how many statements were signed."""
    from portal.core.context import open_context
    from portal.keys import accounts, roster_work, signing_keys

    ctx = open_context(data_dir)
    signed = 0
    try:
        new = accounts.get_account_by_email(ctx, newcomer.email)
        for voucher in KNOWN.get(Path(data_dir), []):
            if voucher.email == newcomer.email:
                continue
            account = accounts.get_account_by_email(ctx, voucher.email)
            if account is None or account.role != "officer":
                continue
            waiting = [p for p in roster_work.pending_for(ctx, account) if p.officer_id == new.id
                       and p.kind in ("admit", "replace")]
            if not waiting:
                continue
            seed = signing_keys.open_seed(ctx, account.id, voucher.passphrase)
            for pending in waiting:
                roster_work.sign_pending(ctx, account, seed, pending.channel_id, new.id, pending.kind)
                signed += 1
    finally:
        ctx.db.conn.close()
    return signed
