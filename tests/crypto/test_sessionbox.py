"""Session halves: cookie key + server ciphertext (crypto/sessionbox.py)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import CryptoError, DecryptionError, UnsupportedVersion, join_secret, split_secret

PROPS = settings(max_examples=60, deadline=None)
SECRET = bytes(range(100, 132))
KEY, HALF = split_secret(SECRET)


def test_round_trip_and_shape():
    assert len(KEY) == 32 and HALF[:2] == b"\x01\x05"
    assert len(HALF) == 2 + 24 + 32 + 16
    assert join_secret(KEY, HALF) == SECRET


def test_neither_half_alone_holds_the_secret():
    assert SECRET not in HALF and SECRET not in KEY
    assert KEY not in HALF
    other_key, other_half = split_secret(SECRET)
    assert other_key != KEY and other_half != HALF  # fresh key and nonce each time


def test_wrong_key_fails():
    with pytest.raises(DecryptionError):
        join_secret(bytes(32), HALF)
    other_key, _ = split_secret(SECRET)
    with pytest.raises(DecryptionError):
        join_secret(other_key, HALF)
    with pytest.raises(DecryptionError):  # a cookie value of the wrong size is untrusted input
        join_secret(KEY[:31], HALF)


def test_unknown_version():
    with pytest.raises(UnsupportedVersion):
        join_secret(KEY, b"\x09" + HALF[1:])


@PROPS
@given(secret=st.binary(max_size=300))
def test_round_trip_property(secret):
    assert join_secret(*split_secret(secret)) == secret


@PROPS
@given(i=st.integers(0, len(HALF) - 1), delta=st.integers(1, 255))
def test_any_single_byte_change_fails(i, delta):
    bad = bytearray(HALF)
    bad[i] ^= delta
    with pytest.raises((DecryptionError, UnsupportedVersion)):
        join_secret(KEY, bytes(bad))


@PROPS
@given(i=st.integers(0, 31), delta=st.integers(1, 255))
def test_any_single_byte_change_of_the_key_fails(i, delta):
    bad = bytearray(KEY)
    bad[i] ^= delta
    with pytest.raises(DecryptionError):
        join_secret(bytes(bad), HALF)


@PROPS
@given(cut=st.integers(0, len(HALF) - 1), extra=st.binary(min_size=1, max_size=8))
def test_truncated_or_extended_fails(cut, extra):
    for bad in (HALF[:cut], HALF + extra):
        with pytest.raises(CryptoError):
            join_secret(KEY, bad)
