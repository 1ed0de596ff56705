"""What an anonymous client without script pays before the server spends a key derivation: a
ticket that becomes valid after a wait which typing pays (SECURITY.md, "Proof of work and
tickets").

A ticket is stateless until spent (portal.guard.proofs keeps its spent nonce): an HMAC over its
form, two numbers, a coarse expiry, a nonce and the session's form token, so a ticket works only
with the form it was issued with. A page's ticket (`t1.FORM.VALID_FROM.WAIT.EXPIRES.NONCE.MAC`)
carries a wait as long as the line is expected to be when it is issued (`wait_now`; it is over
sooner if the line turns out shorter); it takes no place while it waits, so a page load proves
nothing and pushes no one back. It is served when it comes back after its wait and the line has a
turn free now (`tickets_per_minute`, counted in turns actually used). Otherwise it takes a place,
at the end of the turns expected to be used, and comes back as a placed ticket
(`t2.FORM.TURN.PLACE.EXPIRES.NONCE.MAC`) valid from its turn until TURN_GRACE_SECONDS after it,
then void: a place nobody uses is skipped, since it holds no turn for anyone; a placed ticket that
comes back early is served only if a turn is free, and otherwise told to wait, keeping its place.
One back at or after its turn with no turn free has the next turn held for it (counted at once)
and comes back as a held ticket (`t3.FORM.TURN.PLACE.EXPIRES.NONCE.MAC`), served at that turn
whatever else came: a turn is held only for a ticket that came back twice, so places never used
hold nothing, and a client taking each turn as it comes free cannot move a placed one on for ever.

How long the line is expected to be comes from how often placed tickets actually came back: of the
last MEASURED places whose outcome is known (used, or void), the share used, times the places still
live, times the time between turns. A flood of tickets that never come back therefore soon lengthens
nobody's wait. The line (the next free turn and the last places, turns and whether each was used,
never who held them, and marks of the nonces spent through it until their tickets expire) is shared
by every server process through a small file in memory (/dev/shm,
`_SharedLine`), never written to disk; on PostgreSQL by every node, through a sealed row
(portal.store.shared_state).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

from portal.core.config import Settings
from portal.guard import proofs, spent_marks
from portal.guard.proofs import NotPaid
from portal.store import Database, shared_state

TURN_GRACE_SECONDS = 30  # a placed ticket is void this long after its turn
MEASURED = 8  # the last places whose outcome is known, for the share that came back
FIRST_MEASURE = 4  # fewer known than this: every live place is expected to be used
PLACES = 1024  # places remembered (a ring), more than a line of 15 minutes at 30 a minute


class NotYet(Exception):
    """A genuine ticket that is not valid yet: come back in `retry_after` seconds. `placed`: the
    ticket that now holds the client's place in the line (it replaces the one sent), or None when
    the one sent is kept. `early`: sent before the wait its page gave, the ordinary no-script path,
    not a sign of load (portal.guard.flood counts only the others)."""

    def __init__(
        self, retry_after: int, placed: "Ticket | None" = None, *, early: bool = False
    ) -> None:
        super().__init__(f"come back in {retry_after} seconds")
        self.retry_after = retry_after
        self.placed = placed
        self.early = early


class Expired(NotPaid):
    """A genuine ticket past its time: a page's ticket past its expiry, or a placed ticket past
    its turn and grace. Refused as such (never taken for a new one); the page gives a new one."""


@dataclass(frozen=True)
class Ticket:
    value: str
    valid_from: int  # epoch seconds, for the page ("ready in N seconds")


def _step_ms(settings: Settings) -> int:
    return max(1, 60_000 // max(1, settings.tickets_per_minute))


def ticket(settings: Settings, purpose: str, bound: str, lasts: int = 0) -> Ticket:
    """A ticket for `purpose`, bound to the form token `bound`, valid after the line's expected
    wait now (at least `no_script_wait_seconds`, at most `ticket_line_seconds`), and still good
    `lasts` seconds from now (at most `ticket_line_seconds`, the horizon the spent set covers:
    proofs.retention_seconds), for a page told to come back then. It takes no place in the line:
    that is taken when it comes back (`spend_ticket`)."""
    wait = wait_now(settings, purpose)
    now = int(time.time())
    return _make_ticket(settings, "t1", purpose, now + wait, wait, bound,
                        now + min(max(0, lasts), settings.ticket_line_seconds))


def wait_now(settings: Settings, purpose: str) -> int:
    """Seconds a page's ticket issued now waits: the line's expected wait, bounded."""
    expected = -(-_SharedLine(settings, purpose).update(lambda line: line.expected_ms()) // 1000)
    return max(settings.no_script_wait_seconds, min(expected, settings.ticket_line_seconds))


def _make_ticket(settings: Settings, tag: str, purpose: str, first: int, second: int,
                 bound: str, good_at: int = 0) -> Ticket:
    """`t1`: issued with a form page (valid from, wait told, in seconds); `t2`: holding a place in
    the line (turn in seconds, place); `t3`: holding a turn counted for it (turn, place). The MAC
    covers the tag, so a page's ticket cannot pass for a placed one, nor a placed one for a held
    one."""
    nonce = secrets.token_urlsafe(16)
    expires = max(proofs.expiry(settings, int(time.time())), proofs.expiry(settings, first),
                  proofs.expiry(settings, good_at))
    numbers = f"{first}.{second}.{expires}"
    sealed = proofs.mac(settings, tag, purpose, numbers, nonce, _bound(bound))
    return Ticket(f"{tag}.{purpose}.{numbers}.{nonce}.{sealed}", first)


SHARED_DIR = Path("/dev/shm")
_HEADER = 2  # the next free turn, the next place to write
_MARKS = _HEADER + PLACES  # then the marks of the nonces spent through the line (spent_marks)
LINE_BYTES = 8 * (_MARKS + spent_marks.WORDS)

_memory_lock = threading.Lock()
_memory_lines: dict[str, bytes] = {}  # the lines where there is no /dev/shm to share them in


class _Line:
    """One line's state: the moment from which a turn is free (ms since the epoch; a turn is
    counted when it is used), a ring of the last places, each its turn in ms times two, plus
    one once used (0: none), and the marks of the nonces spent through it (`spend`)."""

    def __init__(self, raw: bytes, settings: Settings, now_ms: int) -> None:
        self.values = array("q", raw if len(raw) == LINE_BYTES else bytes(LINE_BYTES))
        self.now_ms, self.step_ms = now_ms, _step_ms(settings)
        self.grace_ms = TURN_GRACE_SECONDS * 1000
        horizon = now_ms + settings.ticket_line_seconds * 1000 + self.step_ms + self.grace_ms
        if self.values[0] > horizon:  # never free so far ahead: the clock went back
            self.values = array("q", bytes(LINE_BYTES))

    def _places(self):
        return [(value >> 1, value & 1) for value in self.values[_HEADER:_MARKS] if value]

    def spend(self, mark: int, expires: int) -> None:
        """Mark a ticket's nonce spent (proofs.spent_mark) in the line, under the line's lock and
        before its turn or place is taken; NotPaid if it is marked already: the same ticket sent
        twice at once, before either is kept in the database (which is written after the lock,
        `_keep_spent`). A mark is kept until its ticket's coarse expiry."""
        spent_marks.spend(self.values, _MARKS, mark, expires, self.now_ms // 1000)

    def turn_free(self) -> bool:
        """Whether a turn is free now (one less than a second away counts: no one can be asked
        back sooner than that)."""
        return self.values[0] - self.now_ms < 1000

    def use_turn(self) -> None:
        self.values[0] = max(self.values[0], self.now_ms) + self.step_ms

    def next_turn_ms(self) -> int:
        """When the next turn not yet counted comes free, in whole seconds (ms)."""
        return -(-max(self.values[0], self.now_ms) // 1000) * 1000

    def hold_turn(self) -> int:
        """Count the next turn now, for one placed ticket back at its turn; return when it is
        (ms, a whole second)."""
        at = self.next_turn_ms()
        self.values[0] = at + self.step_ms
        return at

    def share_used(self) -> float:
        """Of the last MEASURED places whose outcome is known, the share used (1 while fewer
        than FIRST_MEASURE are known: a line not yet measured is expected to be used)."""
        known = sorted((turn, used) for turn, used in self._places()
                       if used or turn + self.grace_ms < self.now_ms)[-MEASURED:]
        if len(known) < FIRST_MEASURE:
            return 1.0
        return sum(used for _, used in known) / len(known)

    def expected_ms(self, before: int | None = None) -> int:
        """How long until a turn is expected free for one who joins now (behind the live places
        whose turn is earlier than `before`, or all): the wait for the next free turn, and a turn
        for each live place ahead that is expected to be used."""
        live = sum(1 for turn, used in self._places() if not used
                   and turn + self.grace_ms >= self.now_ms and (before is None or turn < before))
        backlog = max(0, self.values[0] - self.now_ms)
        return backlog + round(self.step_ms * self.share_used() * live)

    def place(self, turn_ms: int, index: int | None = None) -> int:
        """Keep a place at `turn_ms` (a new one, or `index` moved); return its index."""
        if index is None:
            index = self.values[1] % PLACES
            self.values[1] = index + 1
        self.values[_HEADER + index] = turn_ms << 1
        return index

    def mark_used(self, index: int, turn_ms: int) -> None:
        if self.values[_HEADER + index] >> 1 == turn_ms:  # not yet written over by a later place
            self.values[_HEADER + index] |= 1

    def raw(self) -> bytes:
        return self.values.tobytes()


class _SharedLine:
    """One line, shared by every process of the installation: LINE_BYTES in a file in memory
    (/dev/shm), read and written under an advisory lock, named by hashes of the data directory and
    the installation's key. Without /dev/shm the line stays in this process's memory (never on
    disk: it holds times a discloser acted). On PostgreSQL it is shared by every node: a sealed
    row of an UNLOGGED table (portal.store.shared_state), updated under its row lock."""

    def __init__(self, settings: Settings, purpose: str) -> None:
        self.settings = settings
        self.name = proofs.line_name(settings, purpose)
        here = hashlib.sha256(str(Path(settings.data_dir).resolve()).encode()).hexdigest()[:16]
        self.path = SHARED_DIR / f"portal-{here}-{proofs.key(settings).hex()[:16]}-{purpose}.line"

    def update(self, change, make=None):
        """Apply `change(line)` (a _Line, or what `make(raw, settings, now_ms)` builds, that it may
        change) atomically across processes; return what it returns."""
        now_ms = int(time.time() * 1000)
        build = make or _Line
        if shared_state.in_database():  # every node's line: a sealed row (issue 30)
            def in_row(raw: bytes):
                line = build(raw, self.settings, now_ms)
                result = change(line)
                return line.raw(), result

            return shared_state.update(self.settings, f"line:{self.name}", in_row)
        if not SHARED_DIR.is_dir():
            with _memory_lock:
                line = build(_memory_lines.get(self.name, b""), self.settings, now_ms)
                result = change(line)
                _memory_lines[self.name] = line.raw()
            return result
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            line = build(os.pread(fd, LINE_BYTES, 0), self.settings, now_ms)
            before = line.raw()
            result = change(line)
            if line.raw() != before:
                os.pwrite(fd, line.raw(), 0)
            return result
        finally:
            os.close(fd)  # closing releases the lock


def line_free_in(settings: Settings, purpose: str) -> int:
    """Seconds until the installation's line for `purpose` is expected to have room for a place
    again (0: now)."""
    expected = _SharedLine(settings, purpose).update(lambda line: line.expected_ms())
    return max(0, -(-(expected - settings.ticket_line_seconds * 1000) // 1000))


def _bound(bound: str) -> str:
    return hashlib.sha256(bound.encode()).hexdigest()


def spend_ticket(db: Database, settings: Settings, purpose: str, text: str | None,
                 bound: str) -> None:
    """Check and spend a no-script ticket (`_come_back`, `_come_back_placed`). Raises NotPaid
    (Expired for a genuine ticket past its time), or NotYet (the ticket sent kept, or replaced by
    `placed`). The database is read before the line's lock and written after it, never under it:
    the lock, shared by every process (and on PostgreSQL every node), is held only in memory."""
    tag = text.split(".", 1)[0] if text else ""
    tag = tag if tag in ("t2", "t3") else "t1"
    _, _, first, second, expires, nonce, sent_mac = proofs.read_fields(text, tag, purpose, 3)
    expected = proofs.mac(settings, tag, purpose, f"{first}.{second}.{expires}", nonce,
                          _bound(bound))
    if not hmac.compare_digest(sent_mac.encode(), expected.encode()):
        raise NotPaid("forged")
    now = int(time.time())
    if int(expires) < now:
        raise Expired("expired")
    if tag != "t1" and (int(second) >= PLACES or now > int(first) + TURN_GRACE_SECONDS):
        raise Expired("void")  # a placed or held ticket past its turn and grace
    if proofs.was_spent(db, settings, nonce):  # sent again: no turn, no place (a read)
        raise NotPaid("already spent")
    shared, spend = _SharedLine(settings, purpose), _spender(settings, nonce, int(expires))
    try:
        if tag == "t1":
            _come_back(settings, purpose, shared, int(first), int(second), spend, bound)
        else:
            _come_back_placed(settings, purpose, shared, int(first), int(second), spend, bound,
                              held=tag == "t3")
    except NotYet as exc:
        if exc.placed is not None:  # a place taken: spent, as a turn used
            _keep_spent(db, settings, nonce, now)
        raise
    _keep_spent(db, settings, nonce, now)


def _spender(settings: Settings, nonce: str, expires: int):
    """Spending the ticket's nonce in the line, called inside the line's update before it takes a
    turn or a place: NotPaid for a ticket spent already leaves the line as it was (a ticket sent
    again used to take a turn, or a place, each time, and then be refused: one ticket replayed
    every two seconds held every turn)."""
    mark = proofs.spent_mark(settings, nonce)
    return lambda line: line.spend(mark, expires)


def _keep_spent(db: Database, settings: Settings, nonce: str, now: int) -> None:
    """The nonce kept as spent in the database, once the line's lock is let go (issue 22 review,
    L2: a write under it held every process's line behind one commit). Between the two the
    line's mark refuses the same ticket sent again; NotPaid here only if the mark was gone (more
    than spent_marks.SLOTS spends since it), its turn or place then taken once more."""
    proofs.spend_nonce(db, settings, nonce, now)


def _seconds(ms: int) -> int:
    return -(-ms // 1000)


def _come_back(settings, purpose, shared, valid_from, waited, spend, bound) -> None:
    """A page's ticket: before its wait is over, kept (NotYet); its wait is over once it has
    waited what it was told, or what the line now expects if that is less (a line forecast long
    that turned out short keeps no one waiting). Then it is served if a turn is free; else it
    takes a place where the line now expects a turn, less the line's wait it already served (the
    line it was told of has moved on meanwhile), and is exchanged for a placed ticket."""
    now = int(time.time())
    issued, least = valid_from - waited, settings.no_script_wait_seconds

    def take(line: _Line):
        expected = _seconds(line.expected_ms())
        ready = issued + max(least, min(waited, expected))
        if ready > now:
            return "early", ready - now
        if line.turn_free():
            spend(line)  # before the turn is used: a ticket sent again (spent) takes no turn
            line.use_turn()
            return None
        backlog = max(0, line.values[0] - line.now_ms)
        served = max(0, min(waited, now - issued) - least)  # of the line, not the minimum
        ahead = max(backlog, line.expected_ms() - served * 1000)
        if ahead > settings.ticket_line_seconds * 1000:
            return "full", max(1, _seconds(ahead) - settings.ticket_line_seconds)
        turn = _seconds(line.now_ms + ahead)
        spend(line)  # one place per page's ticket, and none for one spent already
        return turn, line.place(turn * 1000)

    taken = shared.update(take)
    if taken is None:
        return proofs.count_spent(settings, purpose)
    if taken[0] in ("early", "full"):  # its wait is kept: for its time, or for room in the line
        raise NotYet(taken[1], early=taken[0] == "early")
    turn, index = taken
    raise NotYet(max(1, turn - now), _make_ticket(settings, "t2", purpose, turn, index, bound))


def _come_back_placed(settings, purpose, shared, turn, index, spend, bound, *, held=False
                      ) -> None:
    """A placed ticket (void past its turn and grace: spend_ticket). Served whenever a turn is free,
    even before its turn (the places ahead were not used: it moves up). Else, before its turn it
    is kept; at or after it, the next turn is held for it (counted now, so no other ticket can
    take it) and it comes back as a held ticket (`t3`, `held`) for that turn, served then whatever
    else came: a client sending a page's ticket the moment each turn comes free cannot move it on
    for ever. Only past the line's length is its place moved instead, to the next turn expected
    free for the places ahead of it, as a placed ticket for that turn."""
    now = int(time.time())

    def take(line: _Line):
        if held:  # its turn was counted when it was held
            if turn * 1000 - line.now_ms >= 1000:
                return "kept", turn
            spend(line)
            return None
        if line.turn_free():
            spend(line)
            line.use_turn()
            line.mark_used(index, turn * 1000)
            return None
        if turn * 1000 > line.now_ms:
            return "kept", turn
        if line.next_turn_ms() - line.now_ms <= settings.ticket_line_seconds * 1000:
            spend(line)
            at = line.hold_turn()
            line.place(at, index)
            line.mark_used(index, at)  # it came back at its turn: the place was used
            return "t3", at // 1000
        ahead = min(line.expected_ms(before=turn * 1000), settings.ticket_line_seconds * 1000)
        moved = _seconds(line.now_ms + max(1000, ahead))
        spend(line)
        line.place(moved * 1000, index)
        return "t2", moved

    taken = shared.update(take)
    if taken is None:
        return proofs.count_spent(settings, purpose)
    tag, at = taken
    if tag == "kept":
        raise NotYet(max(1, at - now))
    raise NotYet(max(1, at - now), _make_ticket(settings, tag, purpose, at, index, bound))
