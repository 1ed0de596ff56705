"""The signed roster (crypto/roster.py): every kind, every chain rule and every refusal, and the
state a bad statement leaves (the valid prefix)."""
import json

import nacl.bindings
import nacl.signing
import pytest

import crypto
from crypto import (
    RosterError,
    SignedStatement,
    custodians_signing_public,
    custodians_signing_seed,
    decode_statement,
    derive_subkey,
    encode_statement,
    generate_keypair,
    new_signing_seed,
    pack_signatures,
    sign_statement,
    signing_public,
    statement_hash,
    unpack_signatures,
    verify_chain,
)
from crypto.roster import GENESIS

CHANNEL = 7
DAY = "2026-03-02"
P = 2**255 - 19
LOW_ORDER_X25519 = [
    bytes(32),
    (1).to_bytes(32, "little"),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    (P - 1).to_bytes(32, "little"),
]
NON_CANONICAL_X25519 = [(P).to_bytes(32, "little"), (P + 9).to_bytes(32, "little"),
                        bytes(31) + b"\x80"]
BAD_ED25519 = [
    bytes(32),                                      # small order (y = 0)
    (1).to_bytes(32, "little"),                     # the neutral element
    bytes([0xEC]) + bytes([0xFF]) * 30 + bytes([0x7F]),   # y = p - 1: small order
    bytes([0xED]) + bytes([0xFF]) * 30 + bytes([0x7F]),   # y = p: not canonical
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),  # order 8
]


class Officer:
    def __init__(self, officer_id):
        self.id = officer_id
        self.seed = new_signing_seed()
        self.signing_key = signing_public(self.seed)
        self.key = generate_keypair()[1]

    def rotate(self):
        self.seed = new_signing_seed()
        self.signing_key = signing_public(self.seed)
        self.key = generate_keypair()[1]


class Chain:
    """Builds a chain statement by statement; `add` signs with the given seeds."""

    def __init__(self, root: Officer, channel=CHANNEL):
        self.statements: list[SignedStatement] = []
        self.channel = channel
        self.root = root
        self.add("root", root.id, root.key, root.signing_key, signers=[root.seed])

    @property
    def head(self):
        return statement_hash(self.statements[-1].body) if self.statements else GENESIS

    def body(self, kind, officer=None, key=None, signing_key=None, *, seq=None, prev=None,
             channel=None):
        seq = len(self.statements) + 1 if seq is None else seq
        return encode_statement(self.channel if channel is None else channel, seq,
                                self.head if prev is None else prev, kind, officer, key,
                                signing_key, DAY)

    def add(self, kind, officer=None, key=None, signing_key=None, *, signers, body=None):
        body = body if body is not None else self.body(kind, officer, key, signing_key)
        self.statements.append(sign(body, signers))
        return self

    def verify(self, pinned=None):
        return verify_chain(self.root.signing_key if pinned is None else pinned, self.channel,
                            self.statements)


def sign(body, seeds):
    return SignedStatement(body, tuple(sign_statement(seed, body) for seed in seeds))


@pytest.fixture
def people():
    return {n: Officer(n) for n in (1, 2, 3, 4)}


def admitted(people, *ids):
    chain = Chain(people[1])
    for n in ids:
        o = people[n]
        chain.add("admit", o.id, o.key, o.signing_key, signers=[people[1].seed])
    return chain


def assert_bad(result, seq, words):
    assert result.problem is not None and result.bad_seq == seq, result
    assert words in result.problem, result.problem
    assert result.length == seq - 1


# --- every kind, and a good chain ------------------------------------------------------------

def test_a_chain_of_every_kind_verifies(people):
    secret = bytes(range(32))
    recovery = nacl.bindings.crypto_scalarmult_base(secret)
    o1, o2, o3 = people[1], people[2], people[3]
    chain = admitted(people, 2, 3)
    chain.add("recovery", None, recovery, custodians_signing_public(secret), signers=[o2.seed])
    o3.rotate()  # the old seed is gone: another reader signs the replacement
    chain.add("replace", 3, o3.key, o3.signing_key, signers=[o1.seed])
    chain.add("handover", 2, None, o2.signing_key, signers=[o1.seed])
    chain.add("remove", 1, signers=[o2.seed])
    result = chain.verify()
    assert result.ok and result.problem is None and result.bad_seq is None
    assert result.length == 7 and result.head == chain.head
    assert set(result.readers) == {2, 3}
    assert result.readers[3].key == o3.key and result.readers[3].signing_key == o3.signing_key
    assert result.readers[3].since_day == DAY
    assert result.recovery_key == recovery
    assert result.recovery_signing_key == custodians_signing_public(secret)
    assert result.root == o2.signing_key and result.root_holder() == 2
    assert result.sealing_keys() == {o2.key, o3.key, recovery}


def test_empty_chain(people):
    result = verify_chain(people[1].signing_key, CHANNEL, [])
    assert result.ok and result.length == 0 and result.head == GENESIS and result.readers == {}
    assert result.root == people[1].signing_key


def test_recovery_without_custodians_key_and_a_later_recovery_replaces_it(people):
    first, second = generate_keypair()[1], generate_keypair()[1]
    chain = admitted(people, 2)
    chain.add("recovery", None, first, None, signers=[people[2].seed])
    chain.add("recovery", None, second, signing_public(new_signing_seed()),
              signers=[people[1].seed])
    result = chain.verify()
    assert result.ok and result.recovery_key == second and result.recovery_signing_key


def test_a_removed_officer_may_be_admitted_again(people):
    chain = admitted(people, 2)
    chain.add("remove", 2, signers=[people[1].seed])
    chain.add("admit", 2, people[2].key, people[2].signing_key, signers=[people[1].seed])
    assert chain.verify().ok and set(chain.verify().readers) == {1, 2}


def test_root_holder_rotates_and_the_root_follows(people):
    o1 = people[1]
    chain = admitted(people, 2)
    old_seed = o1.seed
    o1.rotate()
    chain.add("replace", 1, o1.key, o1.signing_key, signers=[old_seed])
    chain.add("admit", 3, people[3].key, people[3].signing_key, signers=[o1.seed])
    result = chain.verify(pinned=signing_public(old_seed))
    assert result.ok and result.root == o1.signing_key and result.root_holder() == 1


# --- signatures ------------------------------------------------------------------------------

def test_forged_signature(people):
    chain = admitted(people, 2)
    body = chain.body("admit", 3, people[3].key, people[3].signing_key)
    signer, signature = sign_statement(people[1].seed, body)
    forged = bytes([signature[0] ^ 1]) + signature[1:]
    chain.statements.append(SignedStatement(body, ((signer, forged),)))
    assert_bad(chain.verify(), 3, "does not verify")


def test_signature_over_another_body(people):
    chain = admitted(people, 2)
    body = chain.body("admit", 3, people[3].key, people[3].signing_key)
    other = chain.body("admit", 4, people[4].key, people[4].signing_key)
    chain.statements.append(SignedStatement(body, (sign_statement(people[1].seed, other),)))
    assert_bad(chain.verify(), 3, "does not verify")


def test_signature_without_the_context_line_is_refused(people):
    chain = admitted(people)
    body = chain.body("admit", 2, people[2].key, people[2].signing_key)
    key = nacl.signing.SigningKey(people[1].seed)
    chain.statements.append(SignedStatement(body, ((people[1].signing_key,
                                                     key.sign(body).signature),)))
    assert_bad(chain.verify(), 2, "does not verify")


def test_wrong_signer_not_a_reader(people):
    chain = admitted(people, 2)
    chain.add("admit", 3, people[3].key, people[3].signing_key, signers=[people[4].seed])
    assert_bad(chain.verify(), 3, "not a current reader")


def test_the_admitted_officer_cannot_sign_their_own_admission(people):
    chain = admitted(people)
    chain.add("admit", 2, people[2].key, people[2].signing_key, signers=[people[2].seed])
    assert_bad(chain.verify(), 2, "not a current reader")


def test_a_readers_signature_beside_a_strangers_is_refused(people):
    chain = admitted(people, 2)
    chain.add("admit", 3, people[3].key, people[3].signing_key,
              signers=[people[1].seed, people[4].seed])
    assert_bad(chain.verify(), 3, "not a current reader")


def test_removed_reader_signing(people):
    chain = admitted(people, 2)
    chain.add("remove", 2, signers=[people[1].seed])
    chain.add("admit", 3, people[3].key, people[3].signing_key, signers=[people[2].seed])
    result = chain.verify()
    assert_bad(result, 4, "not a current reader")
    assert set(result.readers) == {1}


def test_replaced_key_no_longer_signs(people):
    o2 = people[2]
    chain = admitted(people, 2)
    old_seed = o2.seed
    o2.rotate()
    chain.add("replace", 2, o2.key, o2.signing_key, signers=[old_seed])
    chain.add("admit", 3, people[3].key, people[3].signing_key, signers=[old_seed])
    result = chain.verify()
    assert_bad(result, 4, "not a current reader")
    assert result.readers[2].signing_key == o2.signing_key and result.readers[2].key == o2.key


def test_custodians_cannot_sign_an_admission(people):
    secret = bytes(range(32))
    chain = admitted(people, 2)
    chain.add("recovery", None, nacl.bindings.crypto_scalarmult_base(secret),
              custodians_signing_public(secret), signers=[people[1].seed])
    chain.add("admit", 3, people[3].key, people[3].signing_key,
              signers=[custodians_signing_seed(secret)])
    assert_bad(chain.verify(), 4, "not a current reader")


def test_no_signature_a_duplicate_signer_and_malformed_pairs(people):
    chain = admitted(people, 2)
    body = chain.body("admit", 3, people[3].key, people[3].signing_key)
    pair = sign_statement(people[1].seed, body)
    for signatures, words in [((), "signatures"), ((pair, pair), "twice"),
                              ([pair], "signatures"), ((pair[:1],), "pair"),
                              (((pair[0], pair[1][:63]),), "64 bytes"),
                              (((bytes(32), pair[1]),), "signer")]:
        result = verify_chain(people[1].signing_key, CHANNEL,
                              [*chain.statements, SignedStatement(body, signatures)])
        assert_bad(result, 3, words)
    bad = verify_chain(people[1].signing_key, CHANNEL, [*chain.statements, (body, (pair,))])
    assert_bad(bad, 3, "not a SignedStatement")


# --- the root --------------------------------------------------------------------------------

def test_root_must_be_the_pinned_key(people):
    chain = Chain(people[1])
    result = chain.verify(pinned=people[2].signing_key)
    assert_bad(result, 1, "pinned root")
    assert result.readers == {} and result.head == GENESIS and result.root == people[2].signing_key


def test_root_signed_by_another_key(people):
    o1 = people[1]
    body = encode_statement(CHANNEL, 1, GENESIS, "root", 1, o1.key, o1.signing_key, DAY)
    for seeds in ([people[2].seed], [o1.seed, people[2].seed]):
        result = verify_chain(o1.signing_key, CHANNEL, [sign(body, seeds)])
        assert_bad(result, 1, "pinned root")


def test_an_unusable_pinned_root_is_reported_not_raised(people):
    chain = Chain(people[1])
    for pinned in (b"", bytes(32), "ab" * 32, None):
        result = verify_chain(pinned, CHANNEL, chain.statements)
        assert_bad(result, 1, "pinned root is unusable")
    assert verify_chain(bytes(32), CHANNEL, []).bad_seq is None


def test_root_only_at_seq_1(people):
    o = people[2]
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 2, bytes([1]) * 32, "root", 2, o.key, o.signing_key, DAY)
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 1, GENESIS, "admit", 2, o.key, o.signing_key, DAY)


# --- continuity ------------------------------------------------------------------------------

def test_wrong_prev(people):
    chain = admitted(people, 2)
    body = chain.body("admit", 3, people[3].key, people[3].signing_key, prev=bytes([9]) * 32)
    chain.add("admit", signers=[people[1].seed], body=body)
    result = chain.verify()
    assert_bad(result, 3, "prev")
    assert set(result.readers) == {1, 2}
    assert result.head == statement_hash(chain.statements[1].body)


def test_gap_in_seq(people):
    chain = admitted(people, 2)
    body = chain.body("admit", 3, people[3].key, people[3].signing_key, seq=4)
    chain.add("admit", signers=[people[1].seed], body=body)
    assert_bad(chain.verify(), 3, "seq is 4, expected 3")


def test_a_statement_removed_from_the_middle_breaks_the_chain(people):
    chain = admitted(people, 2, 3)
    del chain.statements[1]
    assert_bad(chain.verify(), 2, "seq is 3, expected 2")


def test_statements_swapped(people):
    chain = admitted(people, 2, 3)
    chain.statements[1], chain.statements[2] = chain.statements[2], chain.statements[1]
    assert_bad(chain.verify(), 2, "seq")


def test_wrong_channel(people):
    chain = admitted(people, 2)
    body = chain.body("admit", 3, people[3].key, people[3].signing_key, channel=CHANNEL + 1)
    chain.add("admit", signers=[people[1].seed], body=body)
    assert_bad(chain.verify(), 3, f"channel {CHANNEL + 1}, not {CHANNEL}")
    assert_bad(verify_chain(people[1].signing_key, CHANNEL + 1, chain.statements), 1, "channel")


def test_non_canonical_body(people):
    chain = admitted(people, 2)
    body = chain.body("admit", 3, people[3].key, people[3].signing_key)
    value = json.loads(body)
    variants = [
        json.dumps(value, sort_keys=True).encode(),                       # spaces
        json.dumps(dict(reversed(value.items())), separators=(",", ":")).encode(),  # unsorted
        body + b"\n",
        body.replace(value["key"].encode(), value["key"].upper().encode()),
        body.replace(b'"seq":3', b'"seq":3.0'),
        body.replace(b'"v":1', b'"v":2'),
        body.replace(b'"v":1', b'"v":true'),
        body[:-1] + b',"x":1}',
        body[:1] + b'"seq":3,' + body[1:],                                # a duplicate field
        body.replace(b'"day":"2026-03-02"', b'"day":"2026-02-30"'),
        body.replace(b'"kind":"admit"', b'"kind":"promote"'),
        body.replace(b"2026", "\u0662026".encode()),
    ]
    for variant in variants:
        assert variant != body
        with pytest.raises(RosterError):
            decode_statement(variant)
        with pytest.raises(RosterError):
            sign_statement(people[1].seed, variant)
        signed = SignedStatement(variant, (sign_raw(people[1].seed, variant),))
        result = verify_chain(people[1].signing_key, CHANNEL, [*chain.statements, signed])
        assert_bad(result, 3, "statement 3")


def sign_raw(seed, body):
    key = nacl.signing.SigningKey(seed)
    return bytes(key.verify_key), key.sign(crypto.roster.SIGNATURE_CONTEXT + body).signature


# --- keys ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", LOW_ORDER_X25519 + NON_CANONICAL_X25519)
def test_unusable_x25519_keys_are_refused(people, bad):
    o = people[2]
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 2, bytes([1]) * 32, "admit", 2, bad, o.signing_key, DAY)
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 2, bytes([1]) * 32, "recovery", None, bad, None, DAY)
    chain = admitted(people)
    good = chain.body("admit", 2, o.key, o.signing_key)
    forged = good.replace(o.key.hex().encode(), bad.hex().encode())
    result = verify_chain(people[1].signing_key, CHANNEL,
                          [*chain.statements, SignedStatement(forged, (sign_raw(people[1].seed,
                                                                                forged),))])
    assert_bad(result, 2, "X25519")


@pytest.mark.parametrize("bad", BAD_ED25519)
def test_invalid_ed25519_keys_are_refused(people, bad):
    o = people[2]
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 2, bytes([1]) * 32, "admit", 2, o.key, bad, DAY)
    chain = admitted(people)
    good = chain.body("admit", 2, o.key, o.signing_key)
    forged = good.replace(o.signing_key.hex().encode(), bad.hex().encode())
    signed = SignedStatement(forged, (sign_raw(people[1].seed, forged),))
    assert_bad(verify_chain(people[1].signing_key, CHANNEL, [*chain.statements, signed]), 2,
               "Ed25519")


@pytest.mark.parametrize("size", [0, 31, 33])
def test_keys_must_be_32_bytes(people, size):
    o = people[2]
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 2, bytes([1]) * 32, "admit", 2, bytes([9]) * size,
                         o.signing_key, DAY)
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 2, bytes([1]) * 32, "admit", 2, o.key, bytes([9]) * size, DAY)
    with pytest.raises(RosterError):
        encode_statement(CHANNEL, 2, bytes([1]) * size, "admit", 2, o.key, o.signing_key, DAY)
    with pytest.raises(RosterError):
        sign_statement(bytes(size), Chain(people[1]).statements[0].body)


def test_encode_checks_fields_against_the_kind(people):
    o = people[2]
    prev = bytes([1]) * 32
    bad = [
        ("admit", None, o.key, o.signing_key),
        ("admit", 2, None, o.signing_key),
        ("admit", 2, o.key, None),
        ("replace", 2, None, o.signing_key),
        ("remove", 2, o.key, None),
        ("remove", 2, None, o.signing_key),
        ("remove", None, None, None),
        ("recovery", 2, o.key, None),
        ("recovery", None, None, None),
        ("handover", 2, o.key, o.signing_key),
        ("handover", 2, None, None),
        ("promote", 2, o.key, o.signing_key),
        ("admit", True, o.key, o.signing_key),
        ("admit", 0, o.key, o.signing_key),
        ("admit", 2**63, o.key, o.signing_key),
        ("admit", "2", o.key, o.signing_key),
    ]
    for kind, officer, key, signing_key in bad:
        with pytest.raises(RosterError):
            encode_statement(CHANNEL, 2, prev, kind, officer, key, signing_key, DAY)
    for channel, seq, day in [(0, 2, DAY), (CHANNEL, 0, DAY), (CHANNEL, 2, "2026-3-2"),
                              (CHANNEL, 2, "2026-13-01"), (True, 2, DAY), (CHANNEL, 2, None)]:
        with pytest.raises(RosterError):
            encode_statement(channel, seq, prev, "admit", 2, o.key, o.signing_key, day)


def test_decode_gives_back_what_was_encoded(people):
    o = people[2]
    prev = bytes([1]) * 32
    body = encode_statement(CHANNEL, 2, prev, "admit", 2, o.key, o.signing_key, DAY)
    s = decode_statement(body)
    assert (s.v, s.channel, s.seq, s.prev, s.kind, s.officer, s.key, s.signing_key, s.day) == (
        1, CHANNEL, 2, prev, "admit", 2, o.key, o.signing_key, DAY)
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    for value in (None, "text", 3):
        with pytest.raises(RosterError):
            decode_statement(value)
    with pytest.raises(RosterError):
        decode_statement(b" " * 2000)


# --- state rules -----------------------------------------------------------------------------

def test_admitting_a_current_reader_again_is_refused(people):
    chain = admitted(people, 2)
    chain.add("admit", 2, people[3].key, people[3].signing_key, signers=[people[1].seed])
    assert_bad(chain.verify(), 3, "already reads")


def test_replace_or_remove_of_a_non_reader_is_refused(people):
    for kind, args in [("replace", (3, people[3].key, people[3].signing_key)), ("remove", (3,)),
                       ("handover", (3, None, people[3].signing_key))]:
        chain = admitted(people, 2)
        chain.add(kind, *args, signers=[people[1].seed])
        assert_bad(chain.verify(), 3, "does not read")


@pytest.mark.parametrize("which", ["key", "signing_key"])
def test_keys_shared_with_another_reader_are_refused(people, which):
    o2, o3 = people[2], people[3]
    key = o2.key if which == "key" else o3.key
    signing = o2.signing_key if which == "signing_key" else o3.signing_key
    chain = admitted(people, 2)
    chain.add("admit", 3, key, signing, signers=[people[1].seed])
    assert_bad(chain.verify(), 3, "officer 2's")
    chain = admitted(people, 2, 3)
    chain.add("replace", 3, key, signing, signers=[people[3].seed])
    assert_bad(chain.verify(), 4, "officer 2's")


def test_recovery_key_must_not_be_a_readers(people):
    chain = admitted(people, 2)
    chain.add("recovery", None, people[2].key, None, signers=[people[1].seed])
    assert_bad(chain.verify(), 3, "reader's key")
    chain = admitted(people, 2)
    chain.add("recovery", None, generate_keypair()[1], people[2].signing_key,
              signers=[people[1].seed])
    assert_bad(chain.verify(), 3, "reader's signing key")
    recovery = generate_keypair()[1]
    chain = admitted(people, 2)
    chain.add("recovery", None, recovery, None, signers=[people[1].seed])
    chain.add("admit", 3, recovery, people[3].signing_key, signers=[people[1].seed])
    assert_bad(chain.verify(), 4, "recovery key")


def test_the_root_holder_is_not_removed_before_a_handover(people):
    chain = admitted(people, 2)
    chain.add("remove", 1, signers=[people[2].seed])
    result = chain.verify()
    assert_bad(result, 3, "holds the root")
    assert set(result.readers) == {1, 2}


def test_another_reader_cannot_replace_the_root_holders_signing_key(people):
    chain = admitted(people, 2)
    chain.add("replace", 1, people[1].key, people[3].signing_key, signers=[people[2].seed])
    assert_bad(chain.verify(), 3, "root's signature")
    # Only the X25519 key changing needs no root signature.
    chain = admitted(people, 2)
    chain.add("replace", 1, people[3].key, people[1].signing_key, signers=[people[2].seed])
    result = chain.verify()
    assert result.ok and result.root == people[1].signing_key


# --- handover --------------------------------------------------------------------------------

def test_handover_by_the_root(people):
    chain = admitted(people, 2, 3)
    chain.add("handover", 2, None, people[2].signing_key, signers=[people[1].seed])
    chain.add("remove", 1, signers=[people[2].seed])
    result = chain.verify()
    assert result.ok and result.root == people[2].signing_key and set(result.readers) == {2, 3}


def test_handover_by_a_majority_of_the_other_readers(people):
    chain = admitted(people, 2, 3, 4)  # the others: 2, 3, 4; a majority is 2
    chain.add("handover", 3, None, people[3].signing_key, signers=[people[2].seed, people[4].seed])
    result = chain.verify()
    assert result.ok and result.root == people[3].signing_key and result.root_holder() == 3


def test_handover_refused_to_a_minority(people):
    chain = admitted(people, 2, 3, 4)
    chain.add("handover", 3, None, people[3].signing_key, signers=[people[3].seed])
    result = chain.verify()
    assert_bad(result, 5, "1 of the 3 other readers")
    assert result.root == people[1].signing_key and result.length == 4


def test_handover_refused_to_half_of_the_other_readers(people):
    o = people[5] = Officer(5)
    chain = admitted(people, 2, 3, 4, 5)  # four others: two are not a majority
    chain.add("handover", 2, None, people[2].signing_key, signers=[people[2].seed, o.seed])
    assert_bad(chain.verify(), 6, "2 of the 4 other readers")


def test_handover_by_the_custodians(people):
    secret = bytes(range(32, 64))
    chain = admitted(people, 2, 3)
    chain.add("recovery", None, nacl.bindings.crypto_scalarmult_base(secret),
              custodians_signing_public(secret), signers=[people[2].seed])
    chain.add("handover", 3, None, people[3].signing_key,
              signers=[custodians_signing_seed(secret)])
    result = chain.verify()
    assert result.ok and result.root == people[3].signing_key


def test_handover_refused_to_an_earlier_recovery_entrys_custodians(people):
    old, new = bytes(range(32, 64)), bytes(range(64, 96))
    chain = admitted(people, 2, 3)
    for secret in (old, new):
        chain.add("recovery", None, nacl.bindings.crypto_scalarmult_base(secret),
                  custodians_signing_public(secret), signers=[people[2].seed])
    chain.add("handover", 3, None, people[3].signing_key, signers=[custodians_signing_seed(old)])
    assert_bad(chain.verify(), 6, "may not sign a handover")


def test_handover_refused_to_a_stranger_and_a_wrong_key(people):
    chain = admitted(people, 2, 3)
    chain.add("handover", 3, None, people[3].signing_key, signers=[people[4].seed])
    assert_bad(chain.verify(), 4, "may not sign a handover")
    chain = admitted(people, 2, 3)
    chain.add("handover", 3, None, people[2].signing_key, signers=[people[1].seed])
    assert_bad(chain.verify(), 4, "not officer 3's current signing key")
    chain = admitted(people, 2)
    chain.add("handover", 1, None, people[1].signing_key, signers=[people[1].seed])
    assert_bad(chain.verify(), 3, "holds the root already")


def test_after_a_handover_the_old_root_is_an_ordinary_reader(people):
    chain = admitted(people, 2, 3, 4)
    chain.add("handover", 2, None, people[2].signing_key, signers=[people[1].seed])
    chain.add("handover", 3, None, people[3].signing_key, signers=[people[1].seed])
    assert_bad(chain.verify(), 6, "1 of the 3 other readers")


# --- the valid prefix ------------------------------------------------------------------------

def test_the_state_after_a_bad_statement_is_the_valid_prefix(people):
    recovery = generate_keypair()[1]
    chain = admitted(people, 2)
    chain.add("recovery", None, recovery, None, signers=[people[2].seed])
    prefix_head = chain.head
    chain.add("remove", 2, signers=[people[4].seed])                       # bad: a stranger
    chain.add("admit", 3, people[3].key, people[3].signing_key, signers=[people[1].seed])
    result = chain.verify()
    assert_bad(result, 4, "not a current reader")
    assert set(result.readers) == {1, 2} and result.recovery_key == recovery
    assert result.head == prefix_head and result.length == 3 and not result.ok
    assert result.root == people[1].signing_key


# --- the custodians' key and the helpers -----------------------------------------------------

def test_custodians_key_is_derived_from_the_recovery_secret_with_its_own_label():
    secret = bytes(range(32))
    seed = custodians_signing_seed(secret)
    assert seed == derive_subkey(secret, "roster-custodian") and len(seed) == 32
    assert seed != secret and seed != derive_subkey(secret, "ack-salt")
    assert custodians_signing_public(secret) == signing_public(seed)
    with pytest.raises(RosterError):
        custodians_signing_seed(bytes(31))


def test_signatures_pack_and_unpack(people):
    body = Chain(people[1]).statements[0].body
    pairs = (sign_statement(people[1].seed, body), sign_statement(people[2].seed, body))
    packed = pack_signatures(pairs)
    assert len(packed) == 192 and unpack_signatures(packed) == pairs
    for bad in (packed[:-1], None):
        with pytest.raises(RosterError):
            unpack_signatures(bad)
    with pytest.raises(RosterError):
        pack_signatures([(pairs[0][0], pairs[0][1][:10])])


def test_signing_public_is_the_acknowledgement_key():
    seed = new_signing_seed()
    assert len(seed) == 32 and signing_public(seed) == crypto.signing_public_key(seed)

