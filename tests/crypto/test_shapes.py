"""Checking a ciphertext's structure without its key (issue 27: what a browser sealed): field
ciphertexts, sealed secrets and secretstream blobs, with libsodium's refusals of low-order keys."""
import io
import os

import pytest

import crypto

# Points of small order on Curve25519 (u-coordinates, little-endian), as libsodium's blocklist has them.
LOW_ORDER = [bytes(32), (1).to_bytes(32, "little"),
             bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
             bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
             (2**255 - 19 - 1).to_bytes(32, "little")]
NON_CANONICAL = [(2**255 - 19).to_bytes(32, "little"), (2**255 - 19 + 1).to_bytes(32, "little")]


@pytest.mark.parametrize("key", LOW_ORDER + NON_CANONICAL)
def test_low_order_and_non_canonical_x25519_keys_are_refused(key):
    with pytest.raises(crypto.RosterError):
        crypto.check_x25519_public(key)
    sealed = bytearray(crypto.seal_to(crypto.generate_keypair()[1], crypto.new_case_key()))
    sealed[2:34] = key
    with pytest.raises(crypto.DecryptionError):
        crypto.sealed_shape(bytes(sealed))


def test_a_field_ciphertext_has_the_size_of_a_padded_plaintext():
    for n in (0, 1, 63, 64, 4095, 4096, 100_000):
        ct = crypto.encrypt_field(crypto.new_case_key(), "case", "details", os.urandom(n))
        assert crypto.field_shape(ct) == crypto.padded_length(n)
        for spoiled in (ct[:-1], ct + b"\0", b"\x01" + ct[1:], ct[:1] + b"\x02" + ct[2:]):
            with pytest.raises(crypto.CryptoError):
                crypto.field_shape(spoiled)


def test_a_sealed_secret_is_exactly_82_bytes():
    sealed = crypto.seal_to(crypto.generate_keypair()[1], crypto.new_case_key())
    crypto.sealed_shape(sealed)
    for spoiled in (sealed[:-1], sealed + b"\0", b"\x02" + sealed[1:]):
        with pytest.raises(crypto.CryptoError):
            crypto.sealed_shape(spoiled)


def test_a_blob_has_the_size_of_a_padded_file():
    for n in (0, 1, 65535, 65536, 65537, 3 * 65536 + 5, 1_000_000):
        out = io.BytesIO()
        crypto.encrypt_stream(os.urandom(32), io.BytesIO(os.urandom(n)), out, b"ad")
        blob = out.getvalue()
        assert crypto.blob_shape(len(blob), blob[:2]) == crypto.padded_length(n)
        for size in (len(blob) - 1, len(blob) + 1, len(blob) + 17):
            with pytest.raises(crypto.DecryptionError):
                crypto.blob_shape(size, blob[:2])
        with pytest.raises(crypto.CryptoError):
            crypto.blob_shape(len(blob), b"\x01\x04")
