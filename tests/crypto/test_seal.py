"""Case keys sealed to recipients (crypto/seal.py)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    DecryptionError,
    UnsupportedVersion,
    generate_keypair,
    new_case_key,
    open_sealed,
    seal_to,
)

PROPS = settings(max_examples=60, deadline=None)
RECIPIENT = generate_keypair()
CASE_KEY = new_case_key()
SEALED = seal_to(RECIPIENT[1], CASE_KEY)


def test_new_case_key_random_32_bytes():
    assert len(CASE_KEY) == 32 and new_case_key() != CASE_KEY


def test_every_recipient_opens_and_nobody_else():
    officers = [generate_keypair() for _ in range(5)]
    sealed = {pk: seal_to(pk, CASE_KEY) for _, pk in officers}
    for sk, pk in officers:
        assert open_sealed(sk, sealed[pk]) == CASE_KEY
    outsider, _ = generate_keypair()
    for blob in sealed.values():
        assert blob[:2] == b"\x01\x02" and CASE_KEY not in blob
        with pytest.raises(DecryptionError):
            open_sealed(outsider, blob)
    # one officer's copy does not open with another officer's key
    with pytest.raises(DecryptionError):
        open_sealed(officers[0][0], sealed[officers[1][1]])


def test_sealing_is_randomised():
    assert seal_to(RECIPIENT[1], CASE_KEY) != SEALED


@PROPS
@given(secret=st.binary(max_size=200))
def test_round_trip(secret):
    assert open_sealed(RECIPIENT[0], seal_to(RECIPIENT[1], secret)) == secret


@PROPS
@given(i=st.integers(0, len(SEALED) - 1), delta=st.integers(1, 255))
def test_any_single_byte_change_fails(i, delta):
    bad = bytearray(SEALED)
    bad[i] ^= delta
    with pytest.raises((DecryptionError, UnsupportedVersion)):
        open_sealed(RECIPIENT[0], bytes(bad))


@PROPS
@given(cut=st.integers(0, len(SEALED) - 1), extra=st.binary(min_size=1, max_size=8))
def test_truncated_or_extended_fails(cut, extra):
    for bad in (SEALED[:cut], SEALED + extra):
        with pytest.raises(CryptoError):
            open_sealed(RECIPIENT[0], bad)


def test_unknown_version():
    with pytest.raises(UnsupportedVersion):
        open_sealed(RECIPIENT[0], b"\x02" + SEALED[1:])


def test_open_sealed_many_opens_each_as_open_sealed_does_on_two_threads(monkeypatch):
    import threading

    from crypto import open_sealed_many, public_key_of
    from crypto import seal as seal_module

    sk, pk = RECIPIENT
    secrets_ = [new_case_key() for _ in range(seal_module.SHARED_FROM + 6)]
    boxes = [seal_to(pk, s) for s in secrets_]
    altered = boxes[3][:-1] + bytes([boxes[3][-1] ^ 1])
    foreign = seal_to(generate_keypair()[1], CASE_KEY)
    future = bytes([9]) + boxes[4][1:]
    boxes[3:6] = [altered, foreign, future]  # altered, for another key, of an unknown version: None
    threads = set()
    real = seal_module._open
    monkeypatch.setattr(seal_module, "_open", lambda *a: threads.add(threading.get_ident()) or real(*a))
    opened = open_sealed_many(sk, boxes, public_key_of(sk))
    assert opened == secrets_[:3] + [None, None, None] + secrets_[6:]
    assert len(threads) == 2  # from SHARED_FROM boxes on, a second thread opens half
    threads.clear()
    assert open_sealed_many(sk, boxes[:8]) == opened[:8] and len(threads) == 1  # a few: one thread
    assert open_sealed_many(sk, []) == []
