"""Field encryption and the raw AEAD (crypto/fields.py)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import (
    CryptoError,
    DecryptionError,
    UnsupportedVersion,
    aead_decrypt,
    aead_encrypt,
    decrypt_field,
    encrypt_field,
    new_case_key,
)

PROPS = settings(max_examples=60, deadline=None)
KEY = new_case_key()
CT = encrypt_field(KEY, "2026-0001", "summary", b"The minister's brother got the contract.")

# draft-irtf-cfrg-xchacha-03, A.3.1 (also in SECURITY.md; kept here so the check does not depend on it)
A31_KEY = bytes(range(0x80, 0xA0))
A31_NONCE = bytes(range(0x40, 0x58))
A31_AD = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
A31_PT = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future,"
          b" sunscreen would be it.")
A31_CT = bytes.fromhex(
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e"
)
A31_TAG = bytes.fromhex("c0875924c1c7987947deafd8780acf49")


def test_xchacha20poly1305_draft_vector_a31():
    assert aead_encrypt(A31_KEY, A31_NONCE, A31_PT, A31_AD) == A31_CT + A31_TAG
    assert aead_decrypt(A31_KEY, A31_NONCE, A31_CT + A31_TAG, A31_AD) == A31_PT
    with pytest.raises(DecryptionError):
        aead_decrypt(A31_KEY, A31_NONCE, A31_CT + A31_TAG, A31_AD[:-1])


def test_format_and_round_trip():
    assert CT[:2] == b"\x02\x03"
    assert len(CT) == 2 + 24 + 64 + 16  # 40 bytes of text padded to the 64-byte bucket
    assert decrypt_field(KEY, "2026-0001", "summary", CT) == b"The minister's brother got the contract."


def test_random_nonce_each_time():
    a, b = (encrypt_field(KEY, "c", "f", b"same") for _ in range(2))
    assert a != b and a[2:26] != b[2:26]


def test_moved_to_another_case_or_field_fails():
    for case_id, field in [("2026-0002", "summary"), ("2026-0001", "details"), ("2026-000", "1summary"),
                           ("", "summary"), ("2026-0001", "")]:
        with pytest.raises(DecryptionError):
            decrypt_field(KEY, case_id, field, CT)


def test_wrong_case_key_fails():
    with pytest.raises(DecryptionError):
        decrypt_field(new_case_key(), "2026-0001", "summary", CT)


def test_unknown_version():
    with pytest.raises(UnsupportedVersion):
        decrypt_field(KEY, "2026-0001", "summary", b"\x00" + CT[1:])
    with pytest.raises(UnsupportedVersion):
        decrypt_field(KEY, "2026-0001", "summary", b"\x03" + CT[1:])
    with pytest.raises(DecryptionError):  # version 1 (unpadded) is read, but this was made as 2
        decrypt_field(KEY, "2026-0001", "summary", b"\x01" + CT[1:])


@PROPS
@given(plaintext=st.binary(max_size=500), case_id=st.text(max_size=20), field=st.text(max_size=20))
def test_round_trip_property(plaintext, case_id, field):
    ct = encrypt_field(KEY, case_id, field, plaintext)
    assert decrypt_field(KEY, case_id, field, ct) == plaintext


@PROPS
@given(i=st.integers(0, len(CT) - 1), delta=st.integers(1, 255))
def test_any_single_byte_change_fails(i, delta):
    bad = bytearray(CT)
    bad[i] ^= delta
    with pytest.raises((DecryptionError, UnsupportedVersion)):
        decrypt_field(KEY, "2026-0001", "summary", bytes(bad))


@PROPS
@given(cut=st.integers(0, len(CT) - 1), extra=st.binary(min_size=1, max_size=8))
def test_truncated_or_extended_fails(cut, extra):
    for bad in (CT[:cut], CT + extra):
        with pytest.raises(CryptoError):
            decrypt_field(KEY, "2026-0001", "summary", bad)


@PROPS
@given(case_id=st.text(max_size=12), field=st.text(max_size=12))
def test_any_other_binding_fails(case_id, field):
    if (case_id, field) != ("2026-0001", "summary"):
        with pytest.raises(DecryptionError):
            decrypt_field(KEY, case_id, field, CT)
