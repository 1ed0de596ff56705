"""Ciphertexts made by the browser's code (static/seal/portal-crypto.js under node) open with the
Python crypto/ (libsodium through PyNaCl), and those made by crypto/ open in the browser's code:
fields, sealed case keys, file blobs of every awkward size fed in awkward pieces, libsodium's
secretstream itself (rekeying included), receipts and their typos, consent signatures. The same
code runs with the JIT off (node --jitless, as Tor Browser's "Safer" level runs it)."""
from __future__ import annotations

import io
import random

import nacl.bindings as sodium
import pytest

import crypto
from crypto import FAST_TEST_PARAMS, ReceiptTypo
from tests.support.node_crypto import js, run_js

FAST = {"opslimit": FAST_TEST_PARAMS.opslimit, "memlimit": FAST_TEST_PARAMS.memlimit}
CHUNK = crypto.CHUNK_SIZE
SIZES = [0, 1, 63, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 200_000]
RNG = random.Random(27)


def _bytes(n: int) -> bytes:
    return RNG.randbytes(n)


def _python_blob(key, plaintext, ad) -> bytes:
    out = io.BytesIO()
    crypto.encrypt_stream(key, io.BytesIO(plaintext), out, ad)
    return out.getvalue()


def _python_open(key, blob, ad) -> bytes:
    out = io.BytesIO()
    crypto.decrypt_stream(key, io.BytesIO(blob), out, ad)
    return out.getvalue()


def test_fields_made_in_the_browser_open_in_python_and_back():
    case_key = crypto.new_case_key()
    texts = ["", "offence", "x" * 63, "Tēnā koe — ā ē ī ō ū", "y" * 5000]
    made = run_js([("encryptField", [case_key, "2026-0007", f"f{i}", t.encode()])
                   for i, t in enumerate(texts)])
    for i, (text, ct) in enumerate(zip(texts, made)):
        assert len(ct) == 42 + crypto.padded_length(len(text.encode()))
        assert crypto.decrypt_field(case_key, "2026-0007", f"f{i}", ct) == text.encode()
    python_made = [crypto.encrypt_field(case_key, "2026-0007", f"f{i}", t.encode())
                   for i, t in enumerate(texts)]
    opened = run_js([("decryptField", [case_key, "2026-0007", f"f{i}", ct])
                     for i, ct in enumerate(python_made)]
                    + [("decryptField", [case_key, "2026-0007", "f1", python_made[0]]),
                       ("decryptField", [case_key, "2026-0008", "f0", python_made[0]])])
    assert opened[:len(texts)] == [t.encode() for t in texts]
    # Another field's or another case's ciphertext does not open.
    assert [r["error"] for r in opened[len(texts):]] == ["DecryptionError"] * 2


def test_case_keys_sealed_in_the_browser_open_in_python_and_back():
    private, public = crypto.generate_keypair()
    case_key = crypto.new_case_key()
    sealed = js("sealTo", public, case_key)
    assert len(sealed) == 50 + 32
    assert crypto.open_sealed(private, sealed) == case_key
    other_private, _ = crypto.generate_keypair()
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(other_private, sealed)
    opened, refused = run_js([("openSealed", [private, crypto.seal_to(public, case_key)]),
                              ("openSealed", [other_private, crypto.seal_to(public, case_key)])])
    assert opened == case_key and refused["error"] == "DecryptionError"
    assert js("publicKeyOf", private) == public == crypto.public_key_of(private)


def test_file_blobs_made_in_the_browser_open_in_python():
    # Every awkward size, whole, in 1000-byte pieces and in pieces that straddle every chunk
    # boundary: one format, byte for byte (the header fixed), that crypto/ opens.
    key, ad = crypto.new_case_key(), crypto.attachment_ad("2026-0007", "att-1")
    plaintexts = [_bytes(size) for size in SIZES]
    patterns = ([CHUNK], [1000], [CHUNK + 7, 13, CHUNK - 20])
    calls = [("encryptBlob", [key, ad, p, sizes, bytes(24)]) for p in plaintexts for sizes in patterns]
    calls += [("encryptBlob", [key, ad, p, [4096], None]) for p in plaintexts]  # random headers
    blobs = iter(run_js(calls))
    same = [[next(blobs) for _ in patterns] for _ in plaintexts]
    for plaintext, (first, *others) in zip(plaintexts, same):
        assert others == [first, first]
        assert len(first) == crypto.padded_blob_size(len(plaintext))
        assert _python_open(key, first, ad) == plaintext
    for plaintext in plaintexts:
        fresh = next(blobs)
        assert fresh[2:26] != bytes(24) and _python_open(key, fresh, ad) == plaintext


def test_file_blobs_made_in_python_open_in_the_browser():
    key, ad = crypto.new_case_key(), crypto.attachment_ad("2026-0007", "att-1")
    plaintexts = [_bytes(size) for size in SIZES]
    blobs = [_python_blob(key, p, ad) for p in plaintexts]
    patterns = ([1 << 30], [999], [CHUNK + 17, 5])
    opened = run_js([("decryptBlob", [key, ad, b, sizes]) for b in blobs for sizes in patterns])
    assert opened == [p for p in plaintexts for _ in patterns]


def test_a_blob_altered_cut_or_extended_does_not_open_in_the_browser():
    key, ad = crypto.new_case_key(), crypto.attachment_ad("2026-0007", "att-1")
    blob = _python_blob(key, _bytes(3 * CHUNK + 5), ad)
    ct = CHUNK + 17
    flipped = bytearray(blob)
    flipped[26 + ct + 100] ^= 1
    cases = {
        "a flipped byte": bytes(flipped),
        "the last chunk cut off": blob[: 26 + 3 * ct],
        "one byte short": blob[:-1],
        "a byte more": blob + b"\0",
        "a chunk dropped": blob[:26] + blob[26 + ct:],
        "two chunks swapped": blob[:26] + blob[26 + ct: 26 + 2 * ct] + blob[26: 26 + ct]
        + blob[26 + 2 * ct:],
        "the header alone": blob[:26],
        "half a header": blob[:10],
        "another attachment's AD": None,
    }
    calls = [("decryptBlob", [key, ad, b, [4000]]) for b in cases.values() if b is not None]
    calls.append(("decryptBlob", [key, crypto.attachment_ad("2026-0007", "att-2"), blob, [4000]]))
    results = run_js(calls)
    assert [r.get("error") if isinstance(r, dict) else r for r in results] == [
        "DecryptionError"] * len(cases)


def test_libsodium_secretstream_itself_agrees_both_ways_rekey_included():
    key, header = _bytes(32), _bytes(24)
    messages = [b"", b"a", _bytes(100), _bytes(16), _bytes(17), _bytes(1000), b"end"]
    tags = [0, 1, 2, 0, 2, 0, 3]  # MESSAGE, PUSH, REKEY (twice) and FINAL
    chunks = js("rawPush", key, header, messages, tags, b"ad")
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
    pulled = [sodium.crypto_secretstream_xchacha20poly1305_pull(state, c, b"ad") for c in chunks]
    assert pulled == list(zip(messages, tags))
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    python_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    python_chunks = [sodium.crypto_secretstream_xchacha20poly1305_push(state, m, b"ad", t)
                     for m, t in zip(messages, tags)]
    got = js("rawPull", key, python_header, python_chunks, b"ad")
    assert [(g["message"], g["tag"]) for g in got] == list(zip(messages, tags))


def _receipt_inputs():
    good = crypto.new_receipt()
    return [good, good.lower().replace("-", " "), good.replace("0", "O").replace("1", "l"),
            "\uff27\uff2a\uff25\uff34-6E55-502R-48AS-DB",  # fullwidth letters (NFKC)
            "GJET\u00a06E55\u2013502R\u221248AS\u3000DB", "GJET-6E55-502R-48AS-DB\ufeff",
            "GJET-6E55-502R-48AS-DC", "GJET-6E55-502R-48SA-DB", "GJET-6E55-502R-48AS", "x" * 101,
            "GJET-6E55-502R-48AS-D\u00df", "GJET-6E55-502R-48AS-D\x1c"]


def test_receipts_normalise_and_derive_as_in_python():
    inputs = _receipt_inputs()
    results = run_js([("normaliseReceipt", [text]) for text in inputs])
    for text, got in zip(inputs, results):
        try:
            expected = crypto.normalise_receipt(text)
        except ReceiptTypo:
            assert isinstance(got, dict) and got["error"] == "ReceiptTypo", (text, got)
        else:
            assert got == expected, text
    salt = crypto.new_install_salt()
    receipts = [crypto.new_receipt() for _ in range(2)]
    derived = run_js([("deriveReceiptIdentity", [r, salt, FAST]) for r in receipts]
                     + [("deriveReceiptIdentity", [receipts[0], salt])]
                     + [("newReceipt", []) for _ in range(20)])
    for receipt, got in zip(receipts, derived):
        ident = crypto.derive_receipt_identity(receipt, salt, FAST_TEST_PARAMS)
        assert (got["lookupId"], got["privateKey"], got["publicKey"], got["signingSeed"],
                got["signingPublicKey"]) == (ident.lookup_id, ident.private_key, ident.public_key,
                                             ident.signing_seed, ident.signing_public_key)
    assert derived[2]["error"] == "BadParameters"  # no default parameters: they are explicit
    fresh = derived[3:]
    assert len(set(fresh)) == 20 and all(crypto.normalise_receipt(r) == r for r in fresh)


def test_consent_signed_in_the_browser_verifies_in_python():
    seed = _bytes(32)
    answer = ["2026-0007", 3, "no", "2026-03-09", "Ms Rangi – Te Mana Arotake", "Same invoices."]
    signature, public = run_js([("signConsent", [seed, *answer]), ("ed25519PublicKey", [seed])])
    assert public == crypto.signing_public_key(seed)
    assert crypto.verify_consent(public, *answer, signature)
    assert signature == crypto.sign_consent(seed, *answer)


def test_ed25519_verification_decides_as_libsodium_on_altered_signatures():
    # Valid signatures, each with one byte of R, S or the key changed: the browser accepts exactly
    # what crypto_sign_verify_detached accepts.
    cases = []
    for i in range(12):
        seed, message = _bytes(32), _bytes(i * 7)
        public = crypto.signing_public_key(seed)
        signature = sodium.crypto_sign(message, sodium.crypto_sign_seed_keypair(seed)[1])[:64]
        cases.append((public, signature, message))
        for where in (RNG.randrange(32), 32 + RNG.randrange(32), 63):
            altered = bytearray(signature)
            altered[where] ^= 1 << RNG.randrange(8)
            cases.append((public, bytes(altered), message))
        key = bytearray(public)
        key[RNG.randrange(32)] ^= 1 << RNG.randrange(8)
        cases.append((bytes(key), signature, message))
    got = run_js([("verifyEd25519", list(c)) for c in cases])

    def sodium_verifies(public, signature, message):
        try:
            sodium.crypto_sign_open(signature + message, public)
            return True
        except Exception:
            return False

    assert got == [sodium_verifies(*c) for c in cases]
    assert got.count(True) == 12


def test_the_same_code_works_without_the_jit():
    private, public = crypto.generate_keypair()
    case_key = crypto.new_case_key()
    key, ad = crypto.new_case_key(), crypto.attachment_ad("2026-0007", "att-1")
    plaintext = _bytes(2 * CHUNK + 3)
    salt, receipt = crypto.new_install_salt(), crypto.new_receipt()
    engine, sealed, field, blob, ident = run_js([
        ("engine", []),  # --jitless takes WebAssembly away too, as Tor Browser's "Safer" does
        ("sealTo", [public, case_key]),
        ("encryptField", [case_key, "2026-0007", "summary", b"jitless"]),
        ("encryptBlob", [key, ad, plaintext, [CHUNK], None]),
        ("deriveReceiptIdentity", [receipt, salt, FAST]),
    ], jitless=True)
    assert engine == {"webAssembly": "undefined"}
    assert crypto.open_sealed(private, sealed) == case_key
    assert crypto.decrypt_field(case_key, "2026-0007", "summary", field) == b"jitless"
    assert _python_open(key, blob, ad) == plaintext
    assert ident["lookupId"] == crypto.derive_receipt_identity(receipt, salt, FAST_TEST_PARAMS).lookup_id


def test_a_large_file_is_encrypted_in_flat_memory():
    # 32 MiB in 64 KiB pieces: after each collection the live array buffers are a few chunks (some
    # freed buffers are swept a little later, about 2 MiB seen), never a growing share of the file
    # (keeping the file would be 32 MiB).
    key, ad = crypto.new_case_key(), crypto.attachment_ad("2026-0007", "att-1")
    size = 32 * 1024 * 1024
    (got,) = run_js([("encryptLarge", [key, ad, size, 16])], flags=("--expose-gc",))
    assert got["length"] == crypto.padded_blob_size(size)
    assert 0 < got["peakLive"] - got["baseLive"] < 8 * 1024 * 1024


def _x25519_candidates() -> list[bytes]:
    p = 2**255 - 19
    edges = [n.to_bytes(32, "little") for n in (0, 1, 2, 9, p - 1, p, p + 1, p + 9, 2**255 - 1)]
    random_keys = [_bytes(32) for _ in range(20)] + [crypto.generate_keypair()[1] for _ in range(5)]
    top_bit = [k[:31] + bytes([k[31] | 0x80]) for k in random_keys[20:]]
    return edges + random_keys + top_bit


def test_x25519_key_checks_agree_with_the_roster_format():
    from crypto.roster import RosterError, check_x25519_public
    keys = _x25519_candidates()
    got = run_js([("checkX25519Public", [k]) for k in keys])

    def accepted(key):
        try:
            check_x25519_public(key)
            return True
        except RosterError:
            return False

    assert [not isinstance(g, dict) for g in got] == [accepted(k) for k in keys]
    assert 0 < sum(accepted(k) for k in keys) < len(keys)


def test_ed25519_key_checks_agree_with_libsodium_is_valid_point():
    p = 2**255 - 19
    points = [sodium.crypto_sign_seed_keypair(_bytes(32))[0] for _ in range(10)]
    order2 = (p - 1).to_bytes(32, "little")
    mixed = [sodium.crypto_core_ed25519_add(k, order2) for k in points[:3]]
    edges = [n.to_bytes(32, "little") for n in (0, 1, 3, p - 1, p, p + 1, p + 3, 2**255 - 1)]
    negative = [k[:31] + bytes([k[31] ^ 0x80]) for k in points[:3]]  # the other x: valid too
    keys = points + mixed + edges + negative + [_bytes(32) for _ in range(20)]
    got = run_js([("checkEd25519Public", [k]) for k in keys])
    valid = [sodium.crypto_core_ed25519_is_valid_point(k) for k in keys]
    assert [not isinstance(g, dict) for g in got] == valid
    assert all(valid[:len(points)]) and not any(valid[len(points):len(points) + len(mixed)])


def test_a_file_hashed_in_pieces_gives_its_sha256():
    import hashlib
    data = _bytes(3 * CHUNK + 11)
    got = run_js([("sha256Pieces", [data, sizes]) for sizes in ([len(data)], [1000, 7])]
                 + [("sha256Pieces", [b"", [1]])])
    assert got == [hashlib.sha256(data).digest()] * 2 + [hashlib.sha256(b"").digest()]


def test_an_interrupted_upload_is_made_again_byte_for_byte_from_its_header():
    # The page keeps the blob's header with the upload; the same key, header and file give the
    # same parts, so it can send only those after the last stored one.
    key, ad = crypto.new_case_key(), crypto.attachment_ad("2026-0007", "att-1")
    data = _bytes(2 * CHUNK + 99)
    first = js("encryptBlob", key, ad, data, [5000], None)
    again = js("encryptBlob", key, ad, data, [CHUNK], first[2:26])
    assert again == first and _python_open(key, again, ad) == data
