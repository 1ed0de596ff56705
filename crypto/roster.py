"""A channel's signed roster (SECURITY.md, "Signed roster"): the chain of statements that admits
every key a case key of the channel may be sealed to, and its verification from a pinned root.

Statement n+1 names the hash of body n (`prev`), so a statement cannot be changed, removed or moved
without breaking every one after it; each is signed by keys the chain already trusts. The format
(encoding, hashing, signing) is in crypto/roster_format.py and re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nacl.exceptions
import nacl.signing

from .roster_format import (
    GENESIS,
    KINDS,
    SIGNATURE_CONTEXT,
    RosterError,
    SignedStatement,
    Statement,
    check_ed25519_public,
    check_x25519_public,
    custodians_signing_public,
    custodians_signing_seed,
    decode_statement,
    encode_statement,
    new_signing_seed,
    pack_signatures,
    sign_statement,
    signature_verifies,
    signing_public,
    statement_hash,
    unpack_signatures,
)

MAX_SIGNATURES = 256

__all__ = [
    "GENESIS",
    "KINDS",
    "MAX_SIGNATURES",
    "SIGNATURE_CONTEXT",
    "Reader",
    "RosterError",
    "SignedStatement",
    "Statement",
    "Verified",
    "check_ed25519_public",
    "check_x25519_public",
    "custodians_signing_public",
    "custodians_signing_seed",
    "decode_statement",
    "encode_statement",
    "new_signing_seed",
    "pack_signatures",
    "sign_statement",
    "signature_verifies",
    "signing_public",
    "statement_hash",
    "unpack_signatures",
    "verify_chain",
]


@dataclass(frozen=True)
class Reader:
    """An admitted reader: account id, X25519 public key (what case keys are sealed to), Ed25519
    signing key (what their statements are checked against), and the day they were admitted (kept
    through a replace)."""

    officer: int
    key: bytes
    signing_key: bytes
    since_day: str


@dataclass(frozen=True)
class Verified:
    """What the valid prefix of a chain established. `problem` is None when every statement
    verified; otherwise it says why statement `bad_seq` (its position, from 1) failed, and nothing
    from that statement on was applied. `root` is the current root signing key (the pinned root,
    moved only by a handover or by the root holder's own replace of their signing key); `head` is
    the hash of the last valid body (GENESIS for none) and `length` their count."""

    readers: dict[int, Reader] = field(default_factory=dict)
    recovery_key: bytes | None = None
    recovery_signing_key: bytes | None = None
    root: bytes = GENESIS
    length: int = 0
    head: bytes = GENESIS
    problem: str | None = None
    bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def root_holder(self) -> int | None:
        """The account id of the reader whose signing key is the root, if any."""
        return next((r.officer for r in self.readers.values() if r.signing_key == self.root), None)

    def sealing_keys(self) -> set[bytes]:
        """Every X25519 key the verified roster admits: the readers' and the recovery key."""
        keys = {reader.key for reader in self.readers.values()}
        return keys | ({self.recovery_key} if self.recovery_key is not None else set())


class _Refused(Exception):
    """A statement breaks a chain rule (internal: verify_chain reports it as its problem)."""


@dataclass
class _State:
    readers: dict[int, Reader]
    recovery_key: bytes | None
    recovery_signing_key: bytes | None
    root: bytes


def verify_chain(pinned_root: bytes, channel: int, statements: list) -> Verified:
    """Verify a channel's roster chain from the root key pinned outside the database.

    `pinned_root` is the 32-byte Ed25519 key the first statement must be signed by and name;
    `statements` are SignedStatement in order. Never raises for a bad chain (or a bad pinned root):
    it stops at the first statement that fails any rule of SECURITY.md, "Signed roster" (decoding,
    channel, seq, prev, kind, keys, signatures) and returns the state of the valid prefix, with
    `problem` and `bad_seq` set."""
    try:
        root = check_ed25519_public(pinned_root, "pinned root")
    except RosterError as exc:
        bad = 1 if statements else None
        return Verified(problem=f"the pinned root is unusable: {exc}", bad_seq=bad)
    state = _State({}, None, None, root)
    head, length = GENESIS, 0
    for position, signed in enumerate(statements, start=1):
        try:
            statement = _checked_statement(signed, channel, position, head)
            _apply(state, statement, _signers(signed, statement.kind, state))
        except (_Refused, RosterError) as exc:
            return _verified(state, length, head, f"statement {position}: {exc}", position)
        head, length = statement_hash(signed.body), position
    return _verified(state, length, head, None, None)


def _verified(state: _State, length: int, head: bytes, problem, bad_seq) -> Verified:
    return Verified(
        readers=dict(state.readers),
        recovery_key=state.recovery_key,
        recovery_signing_key=state.recovery_signing_key,
        root=state.root,
        length=length,
        head=head,
        problem=problem,
        bad_seq=bad_seq,
    )


def _checked_statement(signed, channel: int, position: int, head: bytes) -> Statement:
    if not isinstance(signed, SignedStatement):
        raise _Refused("not a SignedStatement")
    statement = decode_statement(signed.body)
    if statement.channel != channel:
        raise _Refused(f"it is for channel {statement.channel}, not {channel}")
    if statement.seq != position:
        raise _Refused(f"its seq is {statement.seq}, expected {position}")
    if statement.prev != head:
        raise _Refused("its prev is not the hash of the statement before")
    return statement


def _signers(signed: SignedStatement, kind: str, state: _State) -> set[bytes]:
    """The distinct signer keys, every signature checked over the context line and the body."""
    signatures = signed.signatures
    if not isinstance(signatures, tuple) or not 1 <= len(signatures) <= MAX_SIGNATURES:
        raise _Refused(f"it needs 1 to {MAX_SIGNATURES} signatures")
    signers: set[bytes] = set()
    for pair in signatures:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise _Refused("a signature is not a (signer, signature) pair")
        signer, signature = check_ed25519_public(pair[0], "signer"), pair[1]
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise _Refused("a signature is not 64 bytes")
        if signer in signers:
            raise _Refused("the same key signed it twice")
        try:
            nacl.signing.VerifyKey(signer).verify(SIGNATURE_CONTEXT + signed.body, signature)
        except (nacl.exceptions.BadSignatureError, ValueError):
            raise _Refused(f"the signature by {signer.hex()} does not verify") from None
        signers.add(signer)
    return signers


def _apply(state: _State, statement: Statement, signers: set[bytes]) -> None:
    """Check the statement's rules against the state before it and its signers; then apply it."""
    reader_keys = {r.signing_key: r.officer for r in state.readers.values()}
    holder = next((o for k, o in reader_keys.items() if k == state.root), None)
    if statement.kind == "root":
        _root(state, statement, signers)
        return
    if statement.kind == "handover":
        _handover(state, statement, signers, reader_keys, holder)
        return
    strangers = signers - set(reader_keys)
    if strangers:
        raise _Refused(f"signed by {min(strangers).hex()}, not a current reader's signing key")
    officer = statement.officer
    if statement.kind == "admit":
        if officer in state.readers:
            raise _Refused(f"officer {officer} already reads the channel")
        _check_unique(state, statement, officer)
        state.readers[officer] = Reader(
            officer, statement.key, statement.signing_key, statement.day
        )
    elif statement.kind == "replace":
        current = _current(state, officer)
        _check_unique(state, statement, officer)
        if officer == holder and current.signing_key != statement.signing_key:
            if state.root not in signers:
                raise _Refused(
                    "the root holder's signing key is replaced only with the root's signature"
                    " (or after a handover)"
                )
            state.root = statement.signing_key
        state.readers[officer] = Reader(
            officer, statement.key, statement.signing_key, current.since_day
        )
    elif statement.kind == "remove":
        _current(state, officer)
        if officer == holder:
            raise _Refused(f"officer {officer} holds the root: hand it over before removing them")
        del state.readers[officer]
    elif statement.kind == "recovery":
        if statement.key in {r.key for r in state.readers.values()}:
            raise _Refused("the recovery key is a reader's key")
        if statement.signing_key is not None and statement.signing_key in reader_keys:
            raise _Refused("the custodians' signing key is a reader's signing key")
        state.recovery_key = statement.key
        state.recovery_signing_key = statement.signing_key
    else:  # decode_statement admits only KINDS
        raise _Refused(f"unknown kind {statement.kind!r}")


def _root(state: _State, statement: Statement, signers: set[bytes]) -> None:
    if statement.signing_key != state.root:
        raise _Refused("its signing key is not the pinned root")
    if signers != {state.root}:
        raise _Refused("a root statement is signed by the pinned root, and only by it")
    state.readers[statement.officer] = Reader(
        statement.officer, statement.key, statement.signing_key, statement.day
    )


def _handover(state, statement, signers, reader_keys, holder) -> None:
    officer = statement.officer
    target = _current(state, officer)
    if target.signing_key != statement.signing_key:
        raise _Refused(f"its signing key is not officer {officer}'s current signing key")
    if officer == holder:
        raise _Refused(f"officer {officer} holds the root already")
    custodians = state.recovery_signing_key
    strangers = signers - set(reader_keys) - {state.root} - {custodians}
    if strangers:
        raise _Refused(f"signed by {min(strangers).hex()}, which may not sign a handover")
    others = {key for key, o in reader_keys.items() if o != holder}
    by_others = len(signers & others)
    if state.root not in signers and custodians not in signers and 2 * by_others <= len(others):
        raise _Refused(
            f"signed by {by_others} of the {len(others)} other readers: a handover needs the"
            " root, a majority of the other readers, or the custodians"
        )
    state.root = statement.signing_key


def _current(state: _State, officer: int) -> Reader:
    reader = state.readers.get(officer)
    if reader is None:
        raise _Refused(f"officer {officer} does not read the channel")
    return reader


def _check_unique(state: _State, statement: Statement, officer: int) -> None:
    """No two readers share a key or signing key, and neither is the recovery entry's."""
    for other in state.readers.values():
        if other.officer == officer:
            continue
        if other.key == statement.key:
            raise _Refused(f"its key is officer {other.officer}'s key")
        if other.signing_key == statement.signing_key:
            raise _Refused(f"its signing key is officer {other.officer}'s signing key")
    if statement.key == state.recovery_key:
        raise _Refused("its key is the channel's recovery key")
    if statement.signing_key == state.recovery_signing_key:
        raise _Refused("its signing key is the custodians' signing key")
