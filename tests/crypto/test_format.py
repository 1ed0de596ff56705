"""Cross-cutting format rules and the API contract of crypto/ (docs/crypto-api.md)."""
import inspect
import io
import pathlib
import subprocess
import sys

import pytest

import crypto
from crypto import (
    FAST_TEST_PARAMS,
    FORMAT_VERSION,
    PADDED_VERSION,
    DecryptionError,
    UnsupportedVersion,
    attachment_ad,
    decrypt_field,
    encrypt_field,
    encrypt_stream,
    generate_keypair,
    iter_decrypt,
    join_secret,
    new_case_key,
    open_sealed,
    seal_to,
    split_secret,
    unwrap_private_key,
    wrap_private_key,
)

SK, PK = generate_keypair()
CK = new_case_key()
SESSION_KEY, HALF = split_secret(b"s" * 32)


def _stream_blob() -> bytes:
    out = io.BytesIO()
    encrypt_stream(CK, io.BytesIO(b"file"), out, attachment_ad("c", "a"))
    return out.getvalue()


BLOBS = {
    1: wrap_private_key(SK, "pass", FAST_TEST_PARAMS),
    2: seal_to(PK, CK),
    3: encrypt_field(CK, "c", "f", b"x"),
    4: _stream_blob(),
    5: HALF,
}

READERS = {
    1: lambda b: unwrap_private_key(b, "pass"),
    2: lambda b: open_sealed(SK, b),
    3: lambda b: decrypt_field(CK, "c", "f", b),
    4: lambda b: b"".join(iter_decrypt(CK, io.BytesIO(b), attachment_ad("c", "a"))),
    5: lambda b: join_secret(SESSION_KEY, b),
}


# Fields and streams are padded since issue 26 (version 2); fixed-size secrets stay at version 1.
VERSIONS = {1: FORMAT_VERSION, 2: FORMAT_VERSION, 3: PADDED_VERSION, 4: PADDED_VERSION,
            5: FORMAT_VERSION}


def test_every_ciphertext_starts_with_version_and_its_own_kind():
    assert (FORMAT_VERSION, PADDED_VERSION) == (1, 2)
    for kind, blob in BLOBS.items():
        assert blob[0] == VERSIONS[kind] and blob[1] == kind
        READERS[kind](blob)  # and reads back


@pytest.mark.parametrize("kind", sorted(BLOBS))
@pytest.mark.parametrize("version", [0, 2, 3, 255])
def test_unknown_version_rejected(kind, version):
    if version == VERSIONS[kind] or (kind in (3, 4) and version == FORMAT_VERSION):
        return  # a version this kind has
    with pytest.raises(UnsupportedVersion):
        READERS[kind](bytes([version]) + BLOBS[kind][1:])


@pytest.mark.parametrize("kind", [3, 4])
def test_a_padded_blob_relabelled_as_the_old_version_fails(kind):
    # The version byte is in every AD: a downgrade to the unpadded format does not authenticate.
    with pytest.raises(DecryptionError):
        READERS[kind](bytes([FORMAT_VERSION]) + BLOBS[kind][1:])


@pytest.mark.parametrize("kind", sorted(BLOBS))
def test_a_blob_is_never_read_as_another_kind(kind):
    for other, read in READERS.items():
        if other != kind:
            # Another kind at another version is refused at its version byte already.
            readable = {VERSIONS[other], FORMAT_VERSION} if other in (3, 4) else {VERSIONS[other]}
            expected = DecryptionError if VERSIONS[kind] in readable else UnsupportedVersion
            with pytest.raises(expected):
                read(BLOBS[kind])


@pytest.mark.parametrize("kind", sorted(BLOBS))
def test_empty_input_rejected(kind):
    with pytest.raises(DecryptionError):
        READERS[kind](b"")


def test_crypto_imports_neither_flask_nor_portal():
    code = (
        "import sys, crypto\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'portal', 'werkzeug')]\n"
        "assert not bad, bad\n"
    )
    root = pathlib.Path(__file__).resolve().parent.parent.parent
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
    for path in (root / "crypto").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import flask" not in source and "from flask" not in source, path
        assert "import portal" not in source and "from portal" not in source, path


# Names and leading parameters promised by docs/crypto-api.md.
CONTRACT = {
    "KdfParams": ["opslimit", "memlimit"],
    "argon2id": ["secret", "salt", "params", "size"],
    "derive_subkey": ["key", "label", "size"],
    "generate_keypair": [],
    "public_key_of": ["private_key"],
    "wrap_private_key": ["private_key", "passphrase", "params"],
    "unwrap_private_key": ["wrapped", "passphrase"],
    "new_case_key": [],
    "seal_to": ["public_key", "secret"],
    "open_sealed": ["private_key", "sealed"],
    "encrypt_field": ["case_key", "case_id", "field", "plaintext"],
    "decrypt_field": ["case_key", "case_id", "field", "ciphertext"],
    "aead_encrypt": ["key", "nonce", "plaintext", "ad"],
    "aead_decrypt": ["key", "nonce", "ciphertext", "ad"],
    "StreamEncryptor": ["key", "sink", "ad"],
    "encrypt_stream": ["key", "source", "sink", "ad"],
    "decrypt_stream": ["key", "source", "sink", "ad"],
    "iter_decrypt": ["key", "source", "ad"],
    "stream_key": ["case_key", "case_id", "attachment_id"],
    "attachment_ad": ["case_id", "attachment_id"],
    "new_receipt": [],
    "normalise_receipt": ["text"],
    "derive_receipt_identity": ["receipt", "install_salt", "params"],
    "split_secret": ["secret"],
    "join_secret": ["session_key", "server_half"],
    "new_signing_seed": [],
    "signing_public": ["seed"],
    "sign_statement": ["seed", "body"],
    "encode_statement": ["channel", "seq", "prev", "kind", "officer", "key", "signing_key", "day"],
    "decode_statement": ["body"],
    "statement_hash": ["body"],
    "verify_chain": ["pinned_root", "channel", "statements"],
    "custodians_signing_seed": ["recovery_secret"],
    "padded_length": ["n"],
    "padme": ["length"],
    "padded_blob_size": ["n"],
}


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_signatures(name):
    obj = getattr(crypto, name)
    params = [p.name for p in inspect.signature(obj).parameters.values()
              if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert params[: len(CONTRACT[name])] == CONTRACT[name]
    # anything beyond the contract is keyword-only or optional, so callers of the contract still work
    extra = [p for p in inspect.signature(obj).parameters.values()
             if p.name not in CONTRACT[name] and p.default is p.empty]
    assert not extra, extra


def test_contract_constants_and_errors():
    assert crypto.CHUNK_SIZE == 64 * 1024
    assert issubclass(crypto.WrongPassphrase, crypto.DecryptionError)
    for err in ("DecryptionError", "BadParameters", "UnsupportedVersion", "ReceiptTypo"):
        assert issubclass(getattr(crypto, err), crypto.CryptoError)
    assert crypto.ReceiptIdentity._fields == ("lookup_id", "private_key", "public_key")
    assert set(crypto.__all__) <= set(dir(crypto))
    assert issubclass(crypto.RosterError, crypto.CryptoError)
    assert [f for f in crypto.SignedStatement.__dataclass_fields__] == ["body", "signatures"]
    assert list(crypto.Reader.__dataclass_fields__) == ["officer", "key", "signing_key", "since_day"]
    assert {"readers", "recovery_key", "recovery_signing_key", "root", "length", "head", "problem",
            "bad_seq"} <= set(crypto.Verified.__dataclass_fields__)
