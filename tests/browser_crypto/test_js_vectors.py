"""Every vector of SECURITY.md's "Test vectors", reproduced by the browser's code
(static/seal/portal-crypto.js, run under node): the same bytes the Python crypto/ gives. Kinds
the browser never makes (audit links, session halves, wrapped keys, the discloser key tag) are
built in the driver from the same exported primitives, so the vectors pin those primitives too."""
from __future__ import annotations

import json

import pytest

from tests.crypto.test_vectors import KINDS, VECTORS, text_or_bytes
from tests.support.node_crypto import run_js

ROSTER_CONTEXT = b"protected-disclosure-roster/1\n"
ACK_CONTEXT = b"protected-disclosure-acknowledgement/1\n"


def _calls(v) -> list[tuple[list[tuple], list]]:
    """(calls, what each must give) for one vector."""
    kind = v["kind"]
    if kind == "aead":
        pt = text_or_bytes(v, "plaintext")
        return [[("aeadEncrypt", [v["key"], v["nonce"], pt, v["ad"]]), v["ciphertext"]], [
            ("aeadDecrypt", [v["key"], v["nonce"], v["ciphertext"], v["ad"]]), pt]]
    if kind == "subkey":
        return [[("deriveSubkey", [v["key"], v["label"]]), v["subkey"]]]
    if kind == "stream-key":
        return [[("streamKey", [v["case_key"], v["case_id"], v["attachment_id"]]), v["subkey"]],
                [("attachmentAd", [v["case_id"], v["attachment_id"]]), v["ad"]]]
    if kind == "field":
        pt = text_or_bytes(v, "plaintext")
        args = [v["case_key"], v["case_id"], v["field"]]
        out = [[("decryptField", [*args, v["ciphertext"]]), pt]]
        if v["ciphertext"][0] == 2:
            out.append([("encryptField", [*args, pt, {"nonce": v["nonce"]}]), v["ciphertext"]])
        return out
    if kind == "padding":
        return [[("paddedLength", [n]), p] for n, p in zip(v["lengths"], v["padded"])]
    if kind == "sealed":
        return [[("publicKeyOf", [v["private_key"]]), v["public_key"]],
                [("openSealed", [v["private_key"], v["sealed"]]), text_or_bytes(v, "plaintext")]]
    if kind == "stream":
        pt = text_or_bytes(v, "plaintext")
        # Fed whole, byte by byte and in odd pieces: the same plaintext.
        out = [[("decryptBlob", [v["key"], v["ad"], v["blob"], sizes]), pt]
               for sizes in ([len(v["blob"])], [1], [5, 26, 3])]
        if v["blob"][0] == 2:
            out.append([("paddedBlobSize", [len(pt)]), len(v["blob"])])
        return out
    if kind == "wrapped-key":
        params = {"opslimit": v["opslimit"], "memlimit": v["memlimit"]}
        return [[("wrapPrivateKey", [v["private_key"], v["passphrase"], params, v["salt"],
                                     v["nonce"]]), v["wrapped"]]]
    if kind == "receipt":
        params = {"opslimit": v["opslimit"], "memlimit": v["memlimit"]}
        answer = [v["consent_case_id"], int(v["consent_seq"]), v["consent_answer"],
                  v["consent_day"], v["consent_recipient"], v["consent_reason"]]
        other = [*answer[:4], v["consent_recipient"] + " ", answer[5]]
        return [
            [("normaliseReceipt", [v["input"]]), v["receipt"]],
            [("deriveReceiptIdentity", [v["input"], v["install_salt"], params]), {
                "receipt": v["receipt"], "lookupId": v["lookup_id"].hex(),
                "privateKey": v["private_key"], "publicKey": v["public_key"],
                "signingSeed": v["signing_seed"], "signingPublicKey": v["signing_public_key"]}],
            [("signConsent", [v["signing_seed"], *answer]), v["consent_signature"]],
            [("verifyConsent", [v["signing_public_key"], *answer, v["consent_signature"]]), True],
            [("verifyConsent", [v["signing_public_key"], *other, v["consent_signature"]]), False],
        ]
    if kind == "session-half":
        return [[("sessionHalf", [v["session_key"], v["nonce"], v["secret"]]), v["server_half"]]]
    if kind == "audit-link":
        return [[("auditLink", [v["key"], v["previous"], v["fields"]]), v["link"]]]
    if kind == "fingerprint":
        return [[("keyFingerprint", [v["public_key"]]), v["fingerprint"]]]
    if kind == "commitment":
        return [[("commitmentSalt", [v["case_key"]]), v["salt"]],
                [("commit", [v["salt"], v["parts"]]), v["commitment"]]]
    if kind == "ack-signature":
        file = json.loads(v["file"])
        signature = bytes.fromhex(file["signature"])
        message = ACK_CONTEXT + v["statement"].encode()
        return [[("ed25519PublicKey", [v["seed"]]), v["public_key"]],
                [("canonicalJson", [json.loads(v["statement"])]), v["statement"].encode()],
                [("canonicalJson", [file]), v["file"].encode()[:-1]],
                [("signEd25519", [v["seed"], message]), signature],
                [("verifyEd25519", [v["public_key"], signature, message]), True]]
    if kind == "roster-chain":
        out = [[("deriveSubkey", [v["recovery_secret"], "roster-custodian"]), v["custodians_seed"]]]
        for n in (1, 2, 3):
            body = v[f"body_{n}"]
            out += [[("ed25519PublicKey", [v[f"seed_{n}"]]), v[f"signer_{n}"]],
                    [("signEd25519", [v[f"seed_{n}"], ROSTER_CONTEXT + body]), v[f"signature_{n}"]],
                    [("verifyEd25519", [v[f"signer_{n}"], v[f"signature_{n}"],
                                        ROSTER_CONTEXT + body]), True],
                    [("canonicalJson", [json.loads(body)]), body]]
        statements = [{"body": v[f"body_{n}"], "signatures": [[v[f"signer_{n}"], v[f"signature_{n}"]]]}
                      for n in (1, 2, 3)]
        out.append([("verifyRoster", [v["signer_1"], v["channel"], statements]),
                    lambda got: got["ok"] and (got["length"], got["head"]) == (v["length"], v["head"])
                    and [r[0] for r in got["readers"]] == [1, 2]])
        return out
    if kind == "discloser-key-tag":
        message = b"discloser-signing-key" + v["case_id"].encode() + v["public_key"]
        return [[("deriveSubkey", [v["secret_key"], "discloser-tag"]), v["key"]],
                [("hmacSha256", [v["key"], message]), v["tag"]]]
    if kind == "x25519-refused":
        refused = {"error": "KeyRejected"}
        return [c for key in v["keys"] for c in (
            [("checkX25519Public", [bytes.fromhex(key)]), refused],
            [("sealTo", [bytes.fromhex(key), bytes(32)]), refused])]
    if kind == "ed25519-verify":
        return [[("verifyEd25519", [v["public_key"], v["signature"], v["message"].encode()]),
                 v["verifies"] == "yes"]]
    if kind == "bundle-manifest":
        # The page checks the served manifest as the release key signed it: same canonical bytes.
        canonical = v["canonical"].encode()
        return [[("ed25519PublicKey", [v["seed"]]), v["public_key"]],
                [("manifestCanonicalBytes", [json.loads(v["canonical"])]), canonical],
                [("verifyEd25519", [v["public_key"], v["signature"], canonical]), True]]
    if kind == "key-copy":
        # The browser makes no key copies (an officer's, issue 25): its primitives give the same.
        from crypto._format import header, lp
        from crypto.key_copies import KIND_KEY_COPY
        ad = header(KIND_KEY_COPY) + lp(v["case_id"].encode(), v["recipient"].encode())
        return [[("deriveSubkey", [v["private_key"], "case-key-copy"]), v["copy_key"]],
                [("aeadDecrypt", [v["copy_key"], v["nonce"], v["copy"][26:], ad]), v["case_key"]],
                [("aeadEncrypt", [v["copy_key"], v["nonce"], v["case_key"], ad]), v["copy"][26:]]]
    raise AssertionError(f"no browser check for kind {kind}")


def _fix(pairs):
    # aead returns two pairs flattened above; normalise every entry to [call, expected].
    return [list(p) for p in pairs]


PLANS = {v["name"]: _fix(_calls(v)) for v in VECTORS}


@pytest.fixture(scope="module")
def js_results():
    """Every vector's calls in one node process: {vector name: [result, ...]}."""
    names = list(PLANS)
    calls = [call for name in names for call, _ in PLANS[name]]
    results = iter(run_js(calls))
    return {name: [next(results) for _ in PLANS[name]] for name in names}


def test_every_kind_has_a_browser_check():
    assert {v["kind"] for v in VECTORS} == KINDS


@pytest.mark.parametrize("name", list(PLANS))
def test_vector_in_the_browser_code(name, js_results):
    for (call, expected), got in zip(PLANS[name], js_results[name]):
        if callable(expected):
            assert expected(got), (call[0], got)
        elif isinstance(expected, dict) and set(expected) == {"error"}:
            assert isinstance(got, dict) and got.get("error") == expected["error"], (call[0], got)
        else:
            assert got == expected, (call[0], got)
