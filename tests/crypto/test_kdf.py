"""KDF parameters, Argon2id and subkey derivation (crypto/kdf.py)."""
import inspect

import nacl.bindings
import nacl.pwhash.argon2id
import pytest

import crypto
from crypto import (
    FAST_TEST_PARAMS,
    PASSPHRASE_PARAMS,
    RECEIPT_PARAMS,
    BadParameters,
    KdfParams,
    argon2id,
    derive_subkey,
)

MiB = 1024 * 1024




def test_shipped_defaults_are_at_least_moderate_and_interactive():
    assert PASSPHRASE_PARAMS.opslimit >= nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    assert PASSPHRASE_PARAMS.memlimit >= nacl.pwhash.argon2id.MEMLIMIT_MODERATE
    assert RECEIPT_PARAMS.opslimit >= nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    assert RECEIPT_PARAMS.memlimit >= nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
    PASSPHRASE_PARAMS.check()
    RECEIPT_PARAMS.check()


def test_shipped_receipt_versions_are_what_security_md_says():
    # Version 1 (receipts made before version 2) keeps INTERACTIVE; version 2, which every new
    # receipt uses, is ops 1, 32 MiB (SECURITY.md, "Argon2id parameters"): never the test config's.
    assert crypto.RECEIPT_VERSIONS == {1: KdfParams(2, 64 * MiB), 2: KdfParams(1, 32 * MiB)}
    assert crypto.RECEIPT_VERSIONS[1] is RECEIPT_PARAMS and crypto.RECEIPT_VERSION == 2
    assert FAST_TEST_PARAMS not in crypto.RECEIPT_VERSIONS.values()
    for params in crypto.RECEIPT_VERSIONS.values():
        params.check()


def test_defaults_are_what_the_functions_use():
    # Fast parameters can only come in through an explicit argument.
    assert inspect.signature(crypto.wrap_private_key).parameters["params"].default is PASSPHRASE_PARAMS
    assert inspect.signature(crypto.derive_receipt_identity).parameters["params"].default is crypto.RECEIPT_V2_PARAMS
    assert FAST_TEST_PARAMS not in (PASSPHRASE_PARAMS, RECEIPT_PARAMS)
    assert FAST_TEST_PARAMS == KdfParams(1, 8 * MiB)
    FAST_TEST_PARAMS.check()


@pytest.mark.parametrize(
    "ops, mem",
    [(0, 8 * MiB), (17, 8 * MiB), (1, 8 * MiB - 1024), (1, 1024 * MiB + 1024), (1, 2**42), (-1, 8 * MiB),
     (1, 8 * MiB + 1), (1.0, 8 * MiB), (True, 8 * MiB)],
)
def test_check_rejects_out_of_range(ops, mem, no_argon2):
    with pytest.raises(BadParameters):
        KdfParams(ops, mem).check()
    with pytest.raises(BadParameters):
        argon2id(b"secret", bytes(16), KdfParams(ops, mem))


@pytest.mark.parametrize("ops, mem", [(1, 8 * MiB), (16, 8 * MiB), (1, 1024 * MiB), (3, 256 * MiB)])
def test_check_accepts_range_bounds(ops, mem):
    assert KdfParams(ops, mem).check() == KdfParams(ops, mem)


def test_params_round_trip_through_stored_form():
    for p in (FAST_TEST_PARAMS, PASSPHRASE_PARAMS, RECEIPT_PARAMS):
        assert len(p.to_bytes()) == 8
        assert KdfParams.from_bytes(p.to_bytes()) == p
    with pytest.raises(BadParameters):
        KdfParams.from_bytes(b"\xff" * 8)
    with pytest.raises(BadParameters):
        KdfParams.from_bytes(b"\x00" * 7)


def test_argon2id_deterministic_and_salted():
    a = argon2id(b"pw", bytes(16), FAST_TEST_PARAMS)
    assert a == argon2id(b"pw", bytes(16), FAST_TEST_PARAMS) and len(a) == 32
    assert a != argon2id(b"pw", b"\x01" * 16, FAST_TEST_PARAMS)
    assert a != argon2id(b"pw", bytes(16), KdfParams(2, 8 * MiB))
    with pytest.raises(ValueError):
        argon2id(b"pw", bytes(15), FAST_TEST_PARAMS)


def test_subkey_is_raw_bytes_not_hex():
    k = derive_subkey(bytes(32), "fields")
    assert isinstance(k, bytes) and len(k) == 32
    assert len(derive_subkey(bytes(32), "fields", size=64)) == 64


def test_distinct_labels_give_distinct_keys():
    key = bytes(range(32))
    labels = ["fields", "receipt-lookup", "receipt-x25519", "stream-file", "a", "b"]
    subkeys = {derive_subkey(key, label) for label in labels}
    assert len(subkeys) == len(labels)
    assert derive_subkey(key, "fields") == derive_subkey(key, "fields")
    assert derive_subkey(key, "fields") != derive_subkey(bytes(32), "fields")
    assert key not in subkeys


@pytest.mark.parametrize("label", ["", "x" * 17, "fields\0", "fïelds"])
def test_bad_labels_rejected(label):
    with pytest.raises((ValueError, UnicodeEncodeError)):
        derive_subkey(bytes(32), label)


def test_subkey_key_length_checked():
    with pytest.raises(ValueError):
        derive_subkey(b"short", "fields")


def test_subkeys_are_libsodiums_keyed_blake2b_with_person():
    # derive_subkey uses hashlib's BLAKE2b for speed (issue 25's search opens one subkey a case): it
    # must give libsodium's generichash bytes, or every stored field and audit link would stop opening.
    import nacl.encoding
    import nacl.hash

    from crypto.kdf import _blake2b_kdf

    for size, key, label, context in ((32, bytes(32), "fields", b""), (64, bytes(range(64)), "a", b""),
                                      (16, b"k" * 16, "x" * 16, b"context"), (32, bytes(range(40)), "audit", b"m" * 300)):
        expected = nacl.hash.blake2b(context, digest_size=size, key=key, person=label.encode(),
                                     encoder=nacl.encoding.RawEncoder)
        assert _blake2b_kdf(key, label, context, size) == expected
