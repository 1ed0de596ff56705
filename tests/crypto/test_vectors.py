"""The format vectors in SECURITY.md, parsed out of the document and checked against the code."""
import hashlib
import io
import json
import pathlib
import re

import nacl.bindings
import pytest

import crypto
from crypto import (
    KdfParams,
    SignedStatement,
    aead_decrypt,
    aead_encrypt,
    argon2id,
    audit_link,
    attachment_ad,
    commit,
    commitment_salt,
    consent_statement,
    custodians_signing_public,
    custodians_signing_seed,
    decode_statement,
    decrypt_field,
    decrypt_stream,
    derive_receipt_identity,
    derive_subkey,
    encode_statement,
    discloser_key_tag,
    encrypt_field,
    join_secret,
    key_fingerprint,
    lookup_hash,
    normalise_receipt,
    open_sealed,
    padded_blob_size,
    padded_length,
    public_key_of,
    sign_acknowledgement,
    sign_statement,
    signing_public,
    sign_consent,
    signing_public_key,
    split_secret,
    statement_hash,
    stream_key,
    unwrap_private_key,
    verify_acknowledgement,
    verify_chain,
    verify_consent,
    verify_discloser_key_tag,
    wrap_private_key,
    wrapped_params,
)

SECURITY_MD = pathlib.Path(__file__).resolve().parent.parent.parent / "SECURITY.md"
BLOCK = re.compile(r"^```vector\n(.*?)^```", re.M | re.S)
INTEGERS = {"opslimit", "memlimit", "channel", "length", "receipt_version"}
KINDS = {"aead", "subkey", "stream-key", "field", "sealed", "stream", "wrapped-key", "receipt", "session-half",
         "key-copy",
         "audit-link", "commitment", "ack-signature", "fingerprint", "roster-chain",
         "discloser-key-tag", "padding", "x25519-refused", "ed25519-verify", "bundle-manifest"}


def parse(text: str) -> list[dict]:
    vectors = []
    for body in BLOCK.findall(text):
        v = {}
        for line in body.splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition(" = ")
            assert sep, f"malformed vector line: {line!r}"
            value = value.strip()
            if value.startswith('"') or value.startswith("["):
                v[key] = json.loads(value)
            elif key in INTEGERS:
                v[key] = int(value)
            else:
                v[key] = bytes.fromhex(value)
        vectors.append(v)
    return vectors


VECTORS = parse(SECURITY_MD.read_text(encoding="utf-8"))


def text_or_bytes(v, key) -> bytes:
    value = v[key]
    return value.encode("utf-8") if isinstance(value, str) else value


def test_document_has_the_sections_and_every_kind():
    doc = SECURITY_MD.read_text(encoding="utf-8")
    assert "\n## Cryptographic format\n" in doc and "\n## Test vectors\n" in doc
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names)), "vector names must be unique"
    assert {v["kind"] for v in VECTORS} == KINDS


def test_published_draft_vector_is_the_published_one():
    # Guard against editing the published vector in the document to match a broken AEAD.
    (v,) = [v for v in VECTORS if v["kind"] == "aead"]
    assert v["ciphertext"].hex().startswith("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb")
    assert v["ciphertext"][-16:].hex() == "c0875924c1c7987947deafd8780acf49"
    assert v["key"] == bytes(range(0x80, 0xA0)) and v["nonce"] == bytes(range(0x40, 0x58))


def test_every_receipt_version_has_a_vector_at_its_shipped_parameters():
    # The browser (tests/browser_crypto/test_js_vectors.py) and the server must derive the same
    # identity at each version's real parameters, not only at the tests' fast ones.
    import crypto

    shipped = {v["receipt_version"]: KdfParams(v["opslimit"], v["memlimit"])
               for v in VECTORS if v["kind"] == "receipt" and "receipt_version" in v}
    assert shipped == crypto.RECEIPT_VERSIONS


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(v):
    check = CHECKS[v["kind"]]
    check(v)


def _aead(v):
    pt = text_or_bytes(v, "plaintext")
    assert aead_encrypt(v["key"], v["nonce"], pt, v["ad"]) == v["ciphertext"]
    assert aead_decrypt(v["key"], v["nonce"], v["ciphertext"], v["ad"]) == pt


def _subkey(v):
    assert derive_subkey(v["key"], v["label"]) == v["subkey"]


def _stream_key(v):
    assert stream_key(v["case_key"], v["case_id"], v["attachment_id"]) == v["subkey"]
    assert attachment_ad(v["case_id"], v["attachment_id"]) == v["ad"]


def _field(v):
    pt = text_or_bytes(v, "plaintext")
    assert decrypt_field(v["case_key"], v["case_id"], v["field"], v["ciphertext"]) == pt
    if v["ciphertext"][0] == 1:
        return  # format 1 (unpadded, before issue 26): still opens, no longer made
    ct = encrypt_field(v["case_key"], v["case_id"], v["field"], pt, _nonce=v["nonce"])
    assert ct == v["ciphertext"]
    # As SECURITY.md describes it: the AEAD's plaintext is pt, 0x80, zeros to padded_length.
    assert len(ct) == 42 + padded_length(len(pt))
    ad = b"\x02\x03" + b"".join(len(x).to_bytes(4, "big") + x
                                for x in (v["case_id"].encode(), v["field"].encode()))
    padded = aead_decrypt(derive_subkey(v["case_key"], "fields"), ct[2:26], ct[26:], ad)
    assert padded == pt + b"\x80" + bytes(padded_length(len(pt)) - len(pt) - 1)


def _sealed(v):
    assert public_key_of(v["private_key"]) == v["public_key"]
    assert open_sealed(v["private_key"], v["sealed"]) == text_or_bytes(v, "plaintext")


def _stream(v):
    out = io.BytesIO()
    decrypt_stream(v["key"], io.BytesIO(v["blob"]), out, v["ad"])
    assert out.getvalue() == text_or_bytes(v, "plaintext")
    if v["blob"][0] == 2:  # padded: the blob's size tells only the padded length
        assert len(v["blob"]) == padded_blob_size(len(out.getvalue()))


def _padding(v):
    assert [padded_length(n) for n in v["lengths"]] == v["padded"]
    # As SECURITY.md describes it, from the paper: L = n + 1; buckets up to 4096; then Padme with
    # E = floor(log2 L), S = floor(log2 E) + 1, the low E - S bits of L rounded up.
    import math
    for n, expected in zip(v["lengths"], v["padded"]):
        length = n + 1
        if length <= 4096:
            assert expected == max(64, 2 ** math.ceil(math.log2(length)))
        else:
            e = math.floor(math.log2(length))
            mask = 2 ** (e - (math.floor(math.log2(e)) + 1)) - 1
            assert expected == (length + mask) & ~mask


def _wrapped(v):
    params = KdfParams(v["opslimit"], v["memlimit"])
    blob = wrap_private_key(v["private_key"], v["passphrase"], params, _salt=v["salt"], _nonce=v["nonce"])
    assert blob == v["wrapped"]
    assert wrapped_params(v["wrapped"]) == params
    assert unwrap_private_key(v["wrapped"], v["passphrase"]) == v["private_key"]


def _receipt(v):
    assert normalise_receipt(v["input"]) == v["receipt"]
    ident = derive_receipt_identity(v["input"], v["install_salt"], KdfParams(v["opslimit"], v["memlimit"]))
    assert ident.lookup_id == v["lookup_id"].hex()
    assert ident.private_key == v["private_key"] and ident.public_key == v["public_key"]
    # The derivation exactly as SECURITY.md describes it, step by step.
    params = KdfParams(v["opslimit"], v["memlimit"])
    master = argon2id(v["receipt"].encode("ascii"), v["install_salt"], params)
    assert derive_subkey(master, "receipt-lookup") == v["lookup_id"]
    # What a case sealed in the browser keeps of it (issue 27): its hash, exactly as described.
    digest = hashlib.blake2b(v["lookup_id"], digest_size=32, person=b"receipt-lookup-h").hexdigest()
    assert lookup_hash(ident.lookup_id) == v["lookup_hash"] == "h1:" + digest
    seed = derive_subkey(master, "receipt-x25519")
    assert hashlib.sha512(seed).digest()[:32] == v["private_key"]
    assert public_key_of(v["private_key"]) == v["public_key"]
    # The discloser's signing key ("receipt-signing") and a consent answer it signs.
    assert ident.signing_seed == v["signing_seed"] == derive_subkey(master, "receipt-signing")
    assert ident.signing_public_key == v["signing_public_key"] == signing_public_key(v["signing_seed"])
    answer = (v["consent_case_id"], int(v["consent_seq"]), v["consent_answer"], v["consent_day"],
              v["consent_recipient"], v["consent_reason"])
    assert sign_consent(v["signing_seed"], *answer) == v["consent_signature"]
    assert verify_consent(v["signing_public_key"], *answer, v["consent_signature"])
    # The question is signed: another recipient or reason, even one differing only in case or a space,
    # does not verify.
    for field, other in ((4, "The CEO"), (4, v["consent_recipient"].upper()), (4, v["consent_recipient"] + " "),
                         (5, "Another reason."), (5, "")):
        changed = answer[:field] + (other,) + answer[field + 1:]
        assert not verify_consent(v["signing_public_key"], *changed, v["consent_signature"])
    # As SECURITY.md describes it: Ed25519 over the context line and the canonical statement.
    import nacl.signing
    statement = json.dumps({"answer": v["consent_answer"], "case_id": v["consent_case_id"],
                            "day": v["consent_day"], "format": "protected-disclosure-consent/1",
                            "reason": v["consent_reason"], "recipient": v["consent_recipient"],
                            "seq": int(v["consent_seq"])}, sort_keys=True, separators=(",", ":"))
    assert "\\u2013" in statement and statement.isascii()
    assert consent_statement(*answer) == statement.encode("ascii")
    nacl.signing.VerifyKey(v["signing_public_key"]).verify(
        b"protected-disclosure-consent/1\n" + statement.encode("ascii"), v["consent_signature"])


def _session(v):
    key, half = split_secret(v["secret"], _session_key=v["session_key"], _nonce=v["nonce"])
    assert (key, half) == (v["session_key"], v["server_half"])
    assert join_secret(v["session_key"], v["server_half"]) == v["secret"]


def _key_copy(v):
    copy_key = crypto.copy_key_of(v["private_key"])
    assert copy_key == v["copy_key"]
    made = crypto.copy_secret(copy_key, v["case_key"], v["case_id"], v["recipient"], _nonce=v["nonce"])
    assert made == v["copy"] and len(made) == crypto.KEY_COPY_SIZE
    assert crypto.open_copy(copy_key, v["copy"], v["case_id"], v["recipient"]) == v["case_key"]
    # As SECURITY.md describes it: XChaCha20-Poly1305 under the subkey, AD = 01 06 || lp(case_id, recipient).
    ad = bytes([1, 6]) + b"".join(len(t.encode()).to_bytes(4, "big") + t.encode() for t in (v["case_id"], v["recipient"]))
    assert nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(v["copy"][26:], ad, v["nonce"], copy_key) == v["case_key"]
    for case_id, recipient in ((v["case_id"] + "x", v["recipient"]), (v["case_id"], "account:8")):
        with pytest.raises(crypto.DecryptionError):
            crypto.open_copy(copy_key, v["copy"], case_id, recipient)  # moved to another row: does not open
    with pytest.raises(crypto.DecryptionError):
        crypto.open_copy(crypto.copy_key_of(bytes(32)), v["copy"], v["case_id"], v["recipient"])


def _audit_link(v):
    assert audit_link(v["key"], v["previous"], v["fields"]) == v["link"]
    # As SECURITY.md describes it: keyed BLAKE2b-256 over the previous link and the length-prefixed fields.
    import nacl.encoding
    import nacl.hash
    message = v["previous"] + b"".join(len(f.encode()).to_bytes(4, "big") + f.encode() for f in v["fields"])
    assert nacl.hash.blake2b(message, digest_size=32, key=v["key"], person=b"audit-link",
                             encoder=nacl.encoding.RawEncoder) == v["link"]


def _fingerprint(v):
    assert key_fingerprint(v["public_key"]) == v["fingerprint"]
    # As SECURITY.md describes it: unkeyed BLAKE2b-128, person "pd-key-fprint", base32, first 20 characters.
    import base64
    import nacl.encoding
    import nacl.hash
    digest = nacl.hash.blake2b(v["public_key"], digest_size=16, person=b"pd-key-fprint", encoder=nacl.encoding.RawEncoder)
    text = base64.b32encode(digest).decode()[:20]
    assert "-".join(text[i:i + 4] for i in range(0, 20, 4)) == v["fingerprint"]


def _commitment(v):
    assert commitment_salt(v["case_key"]) == v["salt"] == derive_subkey(v["case_key"], "ack-salt")
    assert commit(v["salt"], v["parts"]) == v["commitment"]
    # As SECURITY.md describes it: keyed BLAKE2b-256 over the length-prefixed parts.
    import nacl.encoding
    import nacl.hash
    message = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in v["parts"])
    assert nacl.hash.blake2b(message, digest_size=32, key=v["salt"], person=b"ack-commitment",
                             encoder=nacl.encoding.RawEncoder) == v["commitment"]


def _ack_signature(v):
    import nacl.signing
    statement = json.loads(v["statement"])
    assert signing_public_key(v["seed"]) == v["public_key"]
    assert sign_acknowledgement(v["seed"], statement) == v["file"].encode("ascii")
    assert verify_acknowledgement(v["file"].encode("ascii"), v["public_key"]) == (statement, v["public_key"])
    # As SECURITY.md describes it: Ed25519 over the context line and the canonical statement.
    signature = bytes.fromhex(json.loads(v["file"])["signature"])
    nacl.signing.VerifyKey(v["public_key"]).verify(b"protected-disclosure-acknowledgement/1\n" +
                                                   v["statement"].encode("ascii"), signature)


def _roster_chain(v):
    import nacl.encoding
    import nacl.hash
    import nacl.signing
    assert custodians_signing_seed(v["recovery_secret"]) == v["custodians_seed"]
    assert v["custodians_seed"] == derive_subkey(v["recovery_secret"], "roster-custodian")
    expected = {
        1: ("root", 1, public_key_of(v["private_key_1"]), signing_public(v["seed_1"])),
        2: ("admit", 2, public_key_of(v["private_key_2"]), signing_public(v["seed_3"])),
        3: ("recovery", None, public_key_of(v["recovery_secret"]),
            custodians_signing_public(v["recovery_secret"])),
    }
    statements, prev = [], bytes(32)
    for n in (1, 2, 3):
        body = v[f"body_{n}"]
        s = decode_statement(body)
        assert (s.kind, s.officer, s.key, s.signing_key) == expected[n]
        assert (s.v, s.channel, s.seq, s.prev) == (1, v["channel"], n, prev)
        assert encode_statement(s.channel, s.seq, s.prev, s.kind, s.officer, s.key, s.signing_key,
                                s.day) == body
        # As SECURITY.md describes it: canonical JSON, sorted keys, no spaces, ASCII.
        assert json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True).encode("ascii") == body
        assert sign_statement(v[f"seed_{n}"], body) == (v[f"signer_{n}"], v[f"signature_{n}"])
        nacl.signing.VerifyKey(v[f"signer_{n}"]).verify(b"protected-disclosure-roster/1\n" + body,
                                                        v[f"signature_{n}"])
        assert statement_hash(body) == v[f"hash_{n}"] == nacl.hash.blake2b(
            body, digest_size=32, person=b"roster-link", encoder=nacl.encoding.RawEncoder)
        statements.append(SignedStatement(body, ((v[f"signer_{n}"], v[f"signature_{n}"]),)))
        prev = v[f"hash_{n}"]
    result = verify_chain(signing_public(v["seed_1"]), v["channel"], statements)
    assert result.problem is None and (result.length, result.head) == (v["length"], v["head"])
    assert result.head == v["hash_3"] and set(result.readers) == {1, 2}
    assert result.recovery_key == expected[3][2] and result.recovery_signing_key == expected[3][3]


def _discloser_key_tag(v):
    import hmac
    assert derive_subkey(v["secret_key"], "discloser-tag") == v["key"]
    tag = discloser_key_tag(v["key"], v["case_id"], v["public_key"])
    assert tag == v["tag"]
    # As SECURITY.md describes it: HMAC-SHA256 over the context, the case id and the public key.
    message = b"discloser-signing-key" + v["case_id"].encode("utf-8") + v["public_key"]
    assert hmac.new(v["key"], message, hashlib.sha256).digest() == v["tag"]
    assert verify_discloser_key_tag(v["key"], v["case_id"], v["public_key"], v["tag"])
    assert not verify_discloser_key_tag(v["key"], v["case_id"] + "0", v["public_key"], v["tag"])
    assert not verify_discloser_key_tag(v["secret_key"], v["case_id"], v["public_key"], v["tag"])
    assert not verify_discloser_key_tag(v["key"], v["case_id"], v["public_key"], None)


def _x25519_refused(v):
    from crypto.roster import check_x25519_public
    from crypto.roster_format import RosterError
    for key in v["keys"]:
        with pytest.raises(RosterError):
            check_x25519_public(bytes.fromhex(key))


def _ed25519_verify(v):
    # libsodium's own decision (crypto_sign_verify_detached through PyNaCl), as the vector says.
    import nacl.exceptions
    import nacl.signing
    try:
        nacl.signing.VerifyKey(v["public_key"]).verify(v["message"].encode(), v["signature"])
        verifies = "yes"
    except nacl.exceptions.BadSignatureError:
        verifies = "no"
    assert verifies == v["verifies"]


def _bundle_manifest(v):
    import nacl.signing

    from crypto import bundle
    files = {v["file_path"]: bundle.file_entry(v["file_content"].encode())}
    manifest = bundle.build_manifest(files, {v["channel"]: v["root"]}, v["version"], app=v["app"],
                                     csp=v["csp"], index=v["index"])
    assert bundle.canonical_bytes(manifest) == v["canonical"].encode("ascii")
    # As SECURITY.md describes it: canonical JSON, sorted keys, no spaces, ASCII; plain Ed25519.
    assert json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode() == v["canonical"].encode()
    signature_file = bundle.sign_manifest(manifest, v["seed"])
    assert json.loads(signature_file)["signature"] == v["signature"].hex()
    nacl.signing.VerifyKey(v["public_key"]).verify(v["canonical"].encode(), v["signature"])
    found = bundle.verify_manifest(bundle.manifest_document(manifest), signature_file, v["public_key"])
    assert found.roots == {v["channel"]: v["root"]} and found.version == v["version"]


CHECKS = {
    "bundle-manifest": _bundle_manifest,
    "x25519-refused": _x25519_refused,
    "ed25519-verify": _ed25519_verify,
    "padding": _padding,
    "discloser-key-tag": _discloser_key_tag,
    "aead": _aead,
    "subkey": _subkey,
    "fingerprint": _fingerprint,
    "stream-key": _stream_key,
    "field": _field,
    "sealed": _sealed,
    "stream": _stream,
    "wrapped-key": _wrapped,
    "receipt": _receipt,
    "session-half": _session,
    "key-copy": _key_copy,
    "audit-link": _audit_link,
    "commitment": _commitment,
    "ack-signature": _ack_signature,
    "roster-chain": _roster_chain,
}
assert set(CHECKS) == KINDS
