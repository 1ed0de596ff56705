"""Finding cases by words of their title and details, within an officer's signed-in session
(SECURITY.md, "Searching the inbox").

Titles and details are encrypted, so the server cannot look words up in the database, and keeps
no word index there (no deterministic word hashes either, which would let a copy of the database
test guesses). Instead, the first search of a session opens each case the officer reads once, with
the officer's own key, and keeps what it read (each case's title and the set of its words, never
the text in order) in this process's memory, encrypted under a key derived from the session's
secret. That secret exists only while a request of the session is running (its halves are the
browser's cookie and the server half of the session row, portal/keys/sessions.py), so between
requests the index cannot be read without the officer's browser. Later searches of the session
open the index only, and the cases added to the officer's queue since; a case the officer may no
longer read drops out. The first search reads all the cases in one query, and opens each case key
from the officer's own key copy (kind 0x06, portal.records.casefiles) where there is one: signing in
writes those missing (`prepare`: many in a thread of their own, which a first search waits for), so
search pays one AEAD decryption a case instead of one X25519.
The index ends with the session (signing out, the idle limit) and is never written anywhere: not
to the database, a file or the log.

The words searched for arrive in a POST body only, are used for this request and kept nowhere.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

import crypto
from portal.casework import queue
from portal.casework.queue_rows import QueueRow, title
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.keys.officer_sessions import SignedIn
from portal.records import casefiles
from portal.store import connect

log = logging.getLogger(__name__)

MAX_WORDS = 10  # words in one search
MAX_QUERY_CHARACTERS = 200
SHOWN = 100  # rows shown of what a search finds
MAX_SESSIONS = 64  # indexes kept in one process; the least recently used goes first
BACKGROUND_FROM = 256  # key copies missing at sign-in from which a thread of their own writes them
WAIT_FOR_COPIES_SECONDS = 10.0  # how long a first search waits for that thread before opening them
_KEY_LABEL = "inbox-search"
_FIELDS = ("summary", "details")  # what a search reads of each case
_WORD = re.compile(r"\w+")


def words_of(text: str) -> list[str]:
    """The words of `text` as searched: case and accents folded ("Māori" reads "maori")."""
    if text.isascii():  # most text: nothing to fold but case
        return _WORD.findall(text.lower())
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


class BadSearch(ValueError):
    """The words asked for cannot be searched for; the message (args[0], a words.Sentence or a
    string marked N_) says why, in plain words."""


def too_long() -> Sentence:
    """What is said of a search longer than MAX_QUERY_CHARACTERS."""
    return Sentence(N_("Search for at most %(n)d characters at once."), n=MAX_QUERY_CHARACTERS)


def parse_words(text: str) -> list[str]:
    if len(text) > MAX_QUERY_CHARACTERS:
        raise BadSearch(too_long())
    found = list(dict.fromkeys(words_of(text)))
    if not found:
        raise BadSearch(N_("Type one or more words to look for."))
    if len(found) > MAX_WORDS:
        raise BadSearch(Sentence(N_("Search for at most %(n)d words at once."), n=MAX_WORDS))
    return found


@dataclass
class _Sealed:
    nonce: bytes
    box: bytes
    used_at: float


class _Indexes:
    """Each live session's encrypted index, in this process's memory only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_session: OrderedDict[str, _Sealed] = OrderedDict()

    def get(self, session: str, idle_seconds: int) -> _Sealed | None:
        now = time.monotonic()
        with self._lock:
            for name in [n for n, s in self._by_session.items() if now - s.used_at > idle_seconds]:
                del self._by_session[name]  # the session is past its idle limit: it has ended
            found = self._by_session.get(session)
            if found is not None:
                self._by_session.move_to_end(session)
            return found

    def put(self, session: str, sealed: _Sealed) -> None:
        with self._lock:
            self._by_session[session] = sealed
            self._by_session.move_to_end(session)
            while len(self._by_session) > MAX_SESSIONS:
                self._by_session.popitem(last=False)

    def forget(self, session: str) -> None:
        with self._lock:
            self._by_session.pop(session, None)

    def __len__(self) -> int:
        return len(self._by_session)


INDEXES = _Indexes()


def forget(session: str) -> None:
    """The session ended (signed out): its index goes at once."""
    INDEXES.forget(session)


class _Preparing:
    """The officers whose key copies a thread of this process is writing ((data directory,
    account id) -> set when done): a service serves many organisations in one process, and their
    account ids overlap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_account: dict[tuple[str, int], threading.Event] = {}

    def begin(self, ctx: Context, account_id: int) -> threading.Event | None:
        """The event to set when done; None if a thread already writes this officer's copies."""
        key = (str(ctx.settings.data_dir), account_id)
        with self._lock:
            if key in self._by_account:
                return None
            done = self._by_account[key] = threading.Event()
            return done

    def end(self, ctx: Context, account_id: int, done: threading.Event) -> None:
        with self._lock:
            self._by_account.pop((str(ctx.settings.data_dir), account_id), None)
        done.set()

    def wait(self, ctx: Context, account_id: int, seconds: float) -> bool:
        """Wait (at most `seconds`) for the thread writing this officer's copies, if one is; True
        once none is."""
        with self._lock:
            done = self._by_account.get((str(ctx.settings.data_dir), account_id))
        return done is None or done.wait(seconds)

    def __len__(self) -> int:
        return len(self._by_account)


PREPARING = _Preparing()


def prepare(ctx: Context, who: SignedIn) -> int:
    """At sign-in: write the officer's key copies (portal.records.casefiles, kind 0x06) of every
    case key they have none of yet, so that their first search opens each case with one AEAD
    decryption instead of one X25519 (issue 25). Fewer than BACKGROUND_FROM are written at once, in
    the sign-in's request (a day's cases: milliseconds); more (the first sign-in since key copies
    exist, or since many cases arrived) by a thread of their own, which holds the private key until
    it is done, and for which a first search in the same process waits (at most
    WAIT_FOR_COPIES_SECONDS: then it opens what is left itself). Returns the copies missing.
    SECURITY.md, "Searching the inbox"."""
    missing = casefiles.missing_copies(ctx, who.account.id)
    if len(missing) < BACKGROUND_FROM:
        if missing:
            casefiles.keep_copies_of(ctx, who.account.id, who.private_key, missing)
        return len(missing)
    done = PREPARING.begin(ctx, who.account.id)
    if done is not None:
        threading.Thread(
            target=_prepare_apart,
            args=(ctx, who.account.id, who.private_key, missing, done),
            name="key-copies",
            daemon=True,
        ).start()
    return len(missing)


def _prepare_apart(
    ctx: Context, account_id: int, private_key: bytes, missing: list, done: threading.Event
) -> None:
    """prepare's thread: its own connection (the request's closes when the request ends)."""
    try:
        db = connect(ctx.settings.database_path, ctx.settings.busy_timeout_seconds)
        try:
            casefiles.keep_copies_of(Context(ctx.settings, db, ctx.blobs), account_id, private_key,
                                     missing)
        finally:
            db.conn.close()
    except Exception as exc:  # noqa: BLE001 - nothing lost: the first search opens what is left
        log.warning("key copies at sign-in not written: %s", type(exc).__name__)
    finally:
        PREPARING.end(ctx, account_id, done)


def _key(secret: bytes, session: str) -> bytes:
    """The index's key: from the session's secret (32 bytes at least) and its id, so each session
    of an officer has its own."""
    mixed = crypto.derive_subkey(secret[:32], _KEY_LABEL) + session.encode()[:32]
    return crypto.derive_subkey(mixed, "inbox-session")


# The index in the clear, only inside a request: one line per case, "case id TAB title TAB words",
# the words each once, space-separated, with a space before each so a word's start is " word".
def _pack(entries: dict[str, tuple[str, str]]) -> bytes:
    return "\n".join(f"{cid}\t{t}\t{w}" for cid, (t, w) in entries.items()).encode()


def _unpack(plain: bytes) -> dict[str, tuple[str, str]]:
    entries = {}
    for line in plain.decode().split("\n") if plain else ():
        case_id, case_title, words = line.split("\t", 2)
        entries[case_id] = (case_title, words)
    return entries


def _entry(fields: dict[str, str] | None) -> tuple[str, str]:
    if fields is None:
        return "(This case's title could not be opened.)", ""
    summary = fields.get("summary", "")
    found = dict.fromkeys(words_of(summary) + words_of(fields.get("details", "")))
    case_title = " ".join(title(summary).split())  # never a tab or a line break
    return case_title, "".join(f" {w}" for w in found)


@dataclass
class Found:
    titles: dict[str, str]  # case id -> title, of the cases found
    searched: int  # the cases searched
    opened: int  # the cases opened (decrypted) for this search: 0 once the index has them all


def search(
    ctx: Context,
    account_id: int,
    private_key: bytes,
    session: str,
    secret: bytes,
    words: list[str],
) -> Found:
    """The cases this officer reads that have every one of `words` at the start of a word of their
    title or details. `session`: the session's stored id; `secret`: its joined secret."""
    key = _key(secret, session)
    sealed = INDEXES.get(session, ctx.settings.officer_idle_seconds)
    entries: dict[str, tuple[str, str]] = {}
    if sealed is not None:
        try:
            plain = crypto.aead_decrypt(key, sealed.nonce, sealed.box, session.encode())
            entries = _unpack(plain)
        except crypto.DecryptionError:
            entries = {}
    if not entries:  # the session's first search: every case of the queue, in one query
        PREPARING.wait(ctx, account_id, WAIT_FOR_COPIES_SECONDS)  # the copies sign-in is writing
        opened = casefiles.read_fields_of_queue(ctx, account_id, private_key, _FIELDS)
        entries = {cid: _entry(fields) for cid, fields in opened.items()}
        missing = list(opened)
    else:
        readable = [
            cid
            for (cid,) in ctx.db.execute(
                "SELECT case_id FROM case_queue WHERE account_id = ?", [account_id]
            ).fetchall()
        ]
        entries = {cid: entries[cid] for cid in readable if cid in entries}
        missing = [cid for cid in readable if cid not in entries]
        recipient = f"account:{account_id}"
        for cid, fields in casefiles.read_fields_of_cases(
            ctx, recipient, private_key, missing, _FIELDS, keep_copies=True
        ).items():
            entries[cid] = _entry(fields)
    if missing or sealed is None:
        nonce = secrets.token_bytes(24)
        box = crypto.aead_encrypt(key, nonce, _pack(entries), session.encode())
        INDEXES.put(session, _Sealed(nonce, box, time.monotonic()))
    else:
        sealed.used_at = time.monotonic()
    starts = [f" {w}" for w in words]
    found = {
        cid: case_title
        for cid, (case_title, text) in entries.items()
        if all(start in text for start in starts)
    }
    return Found(found, len(entries), len(missing))


@dataclass
class Results:
    rows: list[QueueRow]  # the first SHOWN found, unseen first, then by nearest deadline
    found: int
    searched: int
    opened: int


def find(ctx: Context, who: SignedIn, words: list[str]) -> Results:
    """The officer's cases with every one of `words`, as rows of the queue (nothing audited: like
    listing, a search reads only what the officer could open one by one)."""
    found = search(
        ctx, who.account.id, who.private_key, who.session, who.private_key, words
    )
    rows, total = queue.rows_of_cases(
        ctx, who.account.id, found.titles, today(ctx.settings.timezone), limit=SHOWN
    )
    return Results(rows, total, found.searched, found.opened)
