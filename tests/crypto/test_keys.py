"""Officer key pairs wrapped under a passphrase (crypto/keys.py)."""
import nacl.bindings
import nacl.pwhash.argon2id
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crypto.kdf
from crypto import (
    FAST_TEST_PARAMS,
    PASSPHRASE_PARAMS,
    BadParameters,
    CryptoError,
    DecryptionError,
    KdfParams,
    UnsupportedVersion,
    WrongPassphrase,
    generate_keypair,
    public_key_of,
    unwrap_private_key,
    wrap_private_key,
    wrapped_params,
)

MiB = 1024 * 1024
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PASS = "correct horse battery staple"


@pytest.fixture(scope="module")
def wrapped():
    sk, pk = generate_keypair()
    return sk, wrap_private_key(sk, PASS, FAST_TEST_PARAMS)


def _set_params(blob: bytes, ops: int, mem_kib: int) -> bytes:
    return blob[:2] + ops.to_bytes(4, "big") + mem_kib.to_bytes(4, "big") + blob[10:]


def test_keypair_shape_and_public_key():
    sk, pk = generate_keypair()
    assert len(sk) == len(pk) == 32 and sk != pk
    assert public_key_of(sk) == pk
    assert generate_keypair()[0] != sk


def test_wrap_round_trip(wrapped):
    sk, blob = wrapped
    assert len(blob) == 98 and blob[:2] == b"\x01\x01"
    assert sk not in blob
    assert unwrap_private_key(blob, PASS) == sk
    assert wrapped_params(blob) == FAST_TEST_PARAMS


def test_wrap_is_randomised(wrapped):
    sk, blob = wrapped
    assert wrap_private_key(sk, PASS, FAST_TEST_PARAMS) != blob  # fresh salt and nonce


def test_wrong_passphrase(wrapped):
    _, blob = wrapped
    with pytest.raises(WrongPassphrase):
        unwrap_private_key(blob, PASS + " ")
    with pytest.raises(DecryptionError):  # WrongPassphrase is a DecryptionError
        unwrap_private_key(blob, "")


def test_passphrase_unicode_normalised():
    sk, _ = generate_keypair()
    blob = wrap_private_key(sk, "caf\u00e9 passphrase", FAST_TEST_PARAMS)  # precomposed é
    assert unwrap_private_key(blob, "cafe\u0301 passphrase") == sk  # e + combining acute


def test_empty_passphrase_refused():
    with pytest.raises(ValueError):
        wrap_private_key(bytes(32), "", FAST_TEST_PARAMS)


def test_default_params_are_stored(monkeypatch):
    # The default is MODERATE; run the real KDF once to show the stored params are the default.
    sk, _ = generate_keypair()
    blob = wrap_private_key(sk, PASS)
    assert wrapped_params(blob) == PASSPHRASE_PARAMS


def test_huge_tampered_memlimit_rejected_before_argon2(wrapped, monkeypatch):
    _, blob = wrapped
    calls = []
    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", lambda *a, **k: calls.append(a) or b"\0" * 32)
    monkeypatch.setattr(nacl.bindings, "crypto_pwhash_alg", lambda *a, **k: calls.append(a) or b"\0" * 32)
    for ops, mem_kib in [(1, 0xFFFFFFFF), (1, 2 * 1024 * 1024), (1, 1024 * 1024 + 1), (0xFFFFFFFF, 8192),
                         (17, 8192), (0, 8192), (1, 8191)]:
        with pytest.raises(BadParameters):
            unwrap_private_key(_set_params(blob, ops, mem_kib), PASS)
    assert calls == []


def test_in_range_tampered_params_fail_authentication(wrapped):
    _, blob = wrapped
    for ops, mem_kib in [(2, 8192), (1, 8193), (1, 16384)]:
        with pytest.raises(DecryptionError):
            unwrap_private_key(_set_params(blob, ops, mem_kib), PASS)


def test_unknown_version_and_kind(wrapped):
    _, blob = wrapped
    with pytest.raises(UnsupportedVersion):
        unwrap_private_key(b"\x02" + blob[1:], PASS)
    with pytest.raises(DecryptionError):
        unwrap_private_key(blob[:1] + b"\x03" + blob[2:], PASS)


@pytest.fixture
def cheap_argon2_above_64mib(monkeypatch):
    """A tampered memlimit may land anywhere up to the 1 GiB ceiling; above 64 MiB we stand in a
    cheap, still parameter-dependent derivation so the property test stays fast. Below it the real
    Argon2id runs."""
    real = nacl.pwhash.argon2id.kdf

    def kdf(size, secret, salt, opslimit, memlimit):
        assert crypto.kdf.MEMLIMIT_MIN <= memlimit <= crypto.kdf.MEMLIMIT_MAX  # check() ran first
        if memlimit > 64 * MiB:
            return crypto.kdf._blake2b_kdf(bytes(32), "test-stand-in", secret + salt + memlimit.to_bytes(8, "big"))
        return real(size, secret, salt, opslimit=opslimit, memlimit=memlimit)

    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", kdf)


@PROPS
@given(data=st.data())
def test_any_single_byte_change_fails(wrapped, cheap_argon2_above_64mib, data):
    sk, blob = wrapped
    # Weight the header and stored params (first 26 bytes) as heavily as the rest.
    i = data.draw(st.one_of(st.integers(0, 25), st.integers(0, len(blob) - 1)))
    delta = data.draw(st.integers(1, 255))
    bad = bytearray(blob)
    bad[i] ^= delta
    with pytest.raises((DecryptionError, BadParameters, UnsupportedVersion)):
        unwrap_private_key(bytes(bad), PASS)


@PROPS
@given(cut=st.integers(0, 97), extra=st.binary(min_size=1, max_size=4))
def test_truncated_or_extended_fails(wrapped, cut, extra):
    _, blob = wrapped
    for bad in (blob[:cut], blob + extra):
        with pytest.raises(CryptoError):
            unwrap_private_key(bad, PASS)


def test_wrap_refuses_out_of_range_params():
    with pytest.raises(BadParameters):
        wrap_private_key(bytes(32), PASS, KdfParams(1, 4 * MiB))


def test_params_and_salt_are_the_associated_data(wrapped):
    # White-box check of the documented layout: AD = bytes 0..25 (version, kind, params, salt).
    sk, blob = wrapped
    from crypto import aead_decrypt, argon2id

    kek = argon2id(PASS.encode(), blob[10:26], wrapped_params(blob))
    assert aead_decrypt(kek, blob[26:50], blob[50:], blob[:26]) == sk
    with pytest.raises(DecryptionError):
        aead_decrypt(kek, blob[26:50], blob[50:], b"")
