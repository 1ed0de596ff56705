"""Sign-in budgets (SECURITY.md, "Budgets"): junk cannot lock a real officer out.

The second factor is checked first (cheap), and the passphrase is derived (Argon2id, rationed in
portal.guard.work_slots) only for an attempt carrying a valid, unused code, which that attempt uses
up whatever its passphrase. So junk naming an officer's address costs no derivation, and a pause it
causes turns away only attempts that fail: a correct passphrase with a valid code goes through, from
any browser.

Four kinds of bucket, each counting only failed sign-ins whose form was valid:
- one per email address typed, known or not (so the answers never tell whether an account exists):
  after FREE_FAILURES a growing pause, after LOCK_FAILURES a pause of LOCK_SECONDS; while it lasts,
  a failed attempt answers 429 with Retry-After (the same words as any failure);
- one for the whole installation, counting failures for unknown email addresses; when it is spent,
  every failed sign-in from a browser without a device cookie answers 429;
- one per device: a browser that signed in to this account before carries a long-lived random cookie
  (it identifies nothing else), and uses its own bucket instead of the two above;
- a cap on wrong codes beside each address's (or device's) bucket: past CODE_FAILURES wrong or
  reused codes in a CODE_WINDOW_SECONDS window, no code is checked for that address until the window
  ends, so the six-digit code cannot be guessed by trying (at most CODE_FAILURES guesses a day, each
  right with a chance of at most 3 in 10^6: SECURITY.md).
Window starts are stored rounded down to the window, pauses rounded up to the minute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from portal.core.clock import epoch, today
from portal.core.context import Context
from portal.guard.throttle import window_of
from portal.store import transaction

WINDOW_SECONDS = 15 * 60
FREE_FAILURES = 5
LOCK_FAILURES = 10
LOCK_SECONDS = 15 * 60
UNKNOWN_EMAIL_FAILURES = 300  # per window, for the whole installation
CODE_FAILURES = 100  # wrong second-factor codes per address (or device) per code window
CODE_WINDOW_SECONDS = 24 * 60 * 60
DEVICE_COOKIE_DAYS = 400  # browsers cap cookie lifetimes at 400 days
# A bucket's row replaced whole (SQL both engines run).
_REPLACING_BUDGET = (
    " ON CONFLICT (bucket) DO UPDATE SET window_start = excluded.window_start,"
    " failures = excluded.failures, paused_until = excluded.paused_until"
)


class SignInPaused(Exception):
    """Failed sign-ins answer 429 for `retry_after` seconds. `locked`: the long pause."""

    def __init__(self, retry_after: int, locked: bool) -> None:
        super().__init__(f"Sign-in paused for {retry_after} seconds.")
        self.retry_after = max(1, retry_after)
        self.locked = locked


def _email_bucket(ctx: Context, email: str) -> str:
    # Keyed hash: the table never holds the addresses people typed.
    digest = hmac.new(
        ctx.settings.secret_key, email.strip().lower().encode(), hashlib.sha256
    ).hexdigest()
    return "email:" + digest[:32]


def _device_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _round_up_to_minute(t: int) -> int:
    return -(-t // 60) * 60


@dataclass
class Attempt:
    """The buckets one sign-in attempt spends from; made by `begin`, closed by `failed` or
    `succeeded`. `paused`: what a failure of this attempt raises (None: it answers plainly).
    `codes_capped`: set when this address has had too many wrong codes; its code is not checked."""

    ctx: Context
    buckets: list[str]
    on_device: bool
    unknown_email: bool
    paused: SignInPaused | None = None
    codes_capped: SignInPaused | None = None

    @property
    def code_bucket(self) -> str:
        return "codes:" + self.buckets[0]

    def wrong_code(self) -> None:
        """Count a wrong or reused second-factor code against this address's cap."""
        start = window_of(epoch(), CODE_WINDOW_SECONDS)
        with transaction(self.ctx.db):
            row = self.ctx.db.execute(
                "SELECT window_start, failures FROM sign_in_budgets WHERE bucket = ?",
                [self.code_bucket],
            ).fetchone()
            failures = row[1] + 1 if row and row[0] == start else 1
            self.ctx.db.execute(
                "INSERT INTO sign_in_budgets (bucket, window_start, failures, paused_until)"
                " VALUES (?, ?, ?, 0)" + _REPLACING_BUDGET,
                [self.code_bucket, start, failures],
            )

    def failed(self) -> str | None:
        """Spend from each bucket; return "locked" or "paused" when this failure began a pause of
        the address's own budget (for the audit log), else None."""
        now = epoch()
        start = window_of(now, WINDOW_SECONDS)
        began = None
        with transaction(self.ctx.db):
            for bucket in self.buckets:
                row = self.ctx.db.execute(
                    "SELECT window_start, failures FROM sign_in_budgets WHERE bucket = ?", [bucket]
                ).fetchone()
                failures = row[1] + 1 if row and row[0] == start else 1
                paused_until = 0
                if bucket != "unknown-emails":
                    if failures >= LOCK_FAILURES:
                        paused_until = _round_up_to_minute(now + LOCK_SECONDS)
                    elif failures >= FREE_FAILURES:
                        paused_until = _round_up_to_minute(
                            now + 15 * 2 ** (failures - FREE_FAILURES)
                        )
                self.ctx.db.execute(
                    "INSERT INTO sign_in_budgets (bucket, window_start, failures, paused_until)"
                    " VALUES (?, ?, ?, ?)" + _REPLACING_BUDGET,
                    [bucket, start, failures, paused_until],
                )
                if bucket.startswith("email:") and failures in (FREE_FAILURES, LOCK_FAILURES):
                    began = "locked" if failures == LOCK_FAILURES else "paused"
        return began

    def succeeded(self) -> None:
        """Clear the pauses. The wrong-code count stays until its window ends, so a guesser's count
        is not reset by the officer's own sign-ins (the bound is per window, not per sign-in)."""
        with transaction(self.ctx.db):
            for bucket in self.buckets:
                if bucket != "unknown-emails":
                    self.ctx.db.execute("DELETE FROM sign_in_budgets WHERE bucket = ?", [bucket])


def _pause(ctx: Context, bucket: str, now: int) -> SignInPaused | None:
    row = ctx.db.execute(
        "SELECT window_start, failures, paused_until FROM sign_in_budgets WHERE bucket = ?",
        [bucket],
    ).fetchone()
    if row is None:
        return None
    window_start, failures, paused_until = row
    if bucket == "unknown-emails":
        if window_start == window_of(now, WINDOW_SECONDS) and failures >= UNKNOWN_EMAIL_FAILURES:
            return SignInPaused(window_start + WINDOW_SECONDS - now, locked=False)
    elif bucket.startswith("codes:"):
        if window_start == window_of(now, CODE_WINDOW_SECONDS) and failures >= CODE_FAILURES:
            return SignInPaused(window_start + CODE_WINDOW_SECONDS - now, locked=True)
    elif paused_until > now:
        return SignInPaused(paused_until - now, locked=failures >= LOCK_FAILURES)
    return None


def begin(ctx: Context, email: str, account_id: int | None, device_token: str | None) -> Attempt:
    """The buckets this attempt would spend from and the pauses they are in, read before any code
    is checked or key derived. Refuses nothing itself: the caller checks the code (unless
    `codes_capped`), derives only for a valid one, and raises `paused` for a failure."""
    on_device = bool(
        device_token
        and account_id is not None
        and ctx.db.execute(
            "SELECT 1 FROM sign_in_devices WHERE token_hash = ? AND account_id = ?",
            [_device_hash(device_token), account_id],
        ).fetchone()
    )
    if on_device:
        buckets = ["device:" + _device_hash(device_token)[:32]]
    else:
        buckets = [_email_bucket(ctx, email), "unknown-emails"]
    now = epoch()
    pauses = [p for p in (_pause(ctx, bucket, now) for bucket in buckets) if p is not None]
    if not on_device and account_id is not None:
        buckets = buckets[:1]  # a known email's failures do not spend the unknown-email budget
    attempt = Attempt(ctx, buckets, on_device, account_id is None)
    attempt.codes_capped = _pause(ctx, attempt.code_bucket, now)
    attempt.paused = attempt.codes_capped or max(
        pauses, key=lambda p: p.retry_after, default=None
    )
    return attempt


def remember_device(ctx: Context, account_id: int, device_token: str | None) -> str:
    """Register this browser for the account after a good sign-in; return the cookie value to keep.
    A browser that already has a device cookie keeps it (one browser may serve several accounts)."""
    token = (
        device_token
        if device_token and 20 <= len(device_token) <= 100
        else secrets.token_urlsafe(32)
    )
    with transaction(ctx.db):
        ctx.db.execute(
            "INSERT INTO sign_in_devices (token_hash, account_id, day) VALUES (?, ?, ?)"
            " ON CONFLICT (token_hash, account_id) DO UPDATE SET day = excluded.day",
            [_device_hash(token), account_id, today(ctx.settings.timezone)],
        )
    return token
