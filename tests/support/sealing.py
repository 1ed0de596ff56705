"""The test plays the discloser's browser in sealing mode (docs/sealed-submission.md): it makes the
receipt, derives its identity, seals the case and identity keys and every field with the Python
`crypto/` (the same ciphertexts the server makes), and talks JSON to the sealed routes."""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

import crypto
from portal.records import case_history

FIRST_NOTE = json.dumps({"reason": "", "expected_timeframe": ""}).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


@dataclass
class Sealed:
    body: dict
    receipt: str
    identity: crypto.ReceiptIdentity
    case_key: bytes
    identity_key: bytes
    case_id: str


def get_setup(client) -> dict:
    response = client.get("/disclose/sealed/setup")
    assert response.status_code == 200, response.text
    return response.get_json()


def identity_of(setup: dict, receipt: str) -> crypto.ReceiptIdentity:
    params = crypto.KdfParams(setup["receipt"]["params"]["opslimit"], setup["receipt"]["params"]["memlimit"])
    return crypto.derive_receipt_identity(receipt, unb64(setup["receipt"]["salt"]), params)


def envelope(recipient: str, public_key: bytes, secret: bytes) -> dict:
    return {"recipient": recipient, "key_id": crypto.key_fingerprint(public_key),
            "sealed": b64(crypto.seal_to(public_key, secret))}


def seal_disclosure(setup: dict, values: dict, channel: str = "Audit and Risk", excluded=(),
                    readers=None, attachments=(), case_key=None, case_id=None) -> Sealed:
    """A sealed disclosure of `values` (the plaintext form's fields), sealed to the channel's
    readers (all the setup lists, less `excluded`, unless `readers` names the recipients).
    `case_key` and `case_id`: those its files were sealed with (seal_file)."""
    receipt = crypto.new_receipt()
    identity = identity_of(setup, receipt)
    case_key, identity_key = case_key or crypto.new_case_key(), crypto.new_case_key()
    case_id = case_id or secrets.token_hex(16)
    entry = next(c for c in setup["channels"] if c["name"] == channel)
    chosen = [r for r in entry["readers"] if r["officer"] not in excluded
              and (readers is None or r["recipient"] in readers)]
    keys = [(r["recipient"], unb64(r["public_key"])) for r in chosen]
    if entry["recovery"]:
        keys.append(("recovery", unb64(entry["recovery"]["public_key"])))
    field = lambda key, name, text: b64(crypto.encrypt_field(key, case_id, name, text.encode()))
    day = setup["day"]
    body = {
        "v": 1, "sealing": "browser", "submission_token": setup["submission_token"],
        "channel": channel, "excluded_officers": list(excluded), "case_id": case_id, "day": day,
        "discloser": {"public_key": b64(identity.public_key), "signing_key": b64(identity.signing_public_key),
                      "lookup": identity.lookup_id},
        "case_key": [envelope(r, k, case_key) for r, k in keys]
        + [envelope("discloser", identity.public_key, case_key)],
        "identity_key": [envelope(r, k, identity_key) for r, k in keys],
        "fields": {name: field(case_key, name, values.get(name, ""))
                   for name in ("category", "summary", "details", "disclosed_elsewhere")
                   + (("language",) if "language" in values else ())},
        "identity_fields": {name: field(identity_key, "identity:" + name, values.get(name, ""))
                            for name in ("contact", "identifying")},
        "status": b64(crypto.encrypt_field(case_key, case_id,
                                           case_history.status_field(1, "received", day, None), FIRST_NOTE)),
        "attachments": list(attachments),
    }
    return Sealed(body, receipt, identity, case_key, identity_key, case_id)


def post_json(client, path: str, body, csrf: str, **kwargs):
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRFToken": csrf}, **kwargs)


def disclose_sealed(client, values: dict, **kwargs) -> tuple[Sealed, object]:
    setup = get_setup(client)
    sealed = seal_disclosure(setup, values, **kwargs)
    return sealed, post_json(client, "/disclose/sealed", sealed.body, setup["csrf_token"])


def status_with_script(client, lookup: str):
    setup = client.get("/status/sealed/setup").get_json()
    return setup, post_json(client, "/status/sealed", {"v": 1, "lookup": lookup}, setup["csrf_token"])


def seal_reply(setup: dict, opened: dict, identity: crypto.ReceiptIdentity, text: str) -> dict:
    """A reply sealed as the status page's script seals it: the case key opened from the
    discloser's envelope with the receipt's private key."""
    case_key = crypto.open_sealed(identity.private_key, unb64(opened["sealed_case_key"]))
    message_id = secrets.token_hex(16)
    name = case_history.message_field(message_id, "discloser", None, setup["day"])
    return {"v": 1, "submission_token": setup["submission_token"], "message_id": message_id,
            "day": setup["day"], "body": b64(crypto.encrypt_field(case_key, opened["case_id"], name, text.encode()))}


def seal_file(case_key: bytes, case_id: str, name: str, data: bytes,
              meta_changes: dict | None = None) -> tuple[str, bytes, str]:
    """(attachment id, the secretstream blob, its meta ciphertext) as the browser makes them;
    `meta_changes` replaces members of the meta, as a careless or hostile browser might."""
    import hashlib
    import io
    attachment_id = secrets.token_hex(16)
    sink = io.BytesIO()
    crypto.encrypt_stream(crypto.stream_key(case_key, case_id, attachment_id), io.BytesIO(data), sink,
                          crypto.attachment_ad(case_id, attachment_id))
    meta = {"name": name, "type": "application/pdf", "size": len(data), "message": None,
            "sha256": hashlib.sha256(data).hexdigest(), "hidden": "unchecked", "hidden_kinds": []}
    meta.update(meta_changes or {})
    meta_ct = crypto.encrypt_field(case_key, case_id, f"attachment:{attachment_id}", json.dumps(meta).encode())
    return attachment_id, sink.getvalue(), b64(meta_ct)


def put_part(client, upload: str, n: int, data: bytes, csrf: str):
    return client.put(f"/disclose/sealed/uploads/{upload}/parts/{n}", data=data,
                      content_type="application/octet-stream", headers={"X-CSRFToken": csrf})


def upload_blob(client, csrf: str, blob: bytes) -> str:
    """Upload a whole blob in the parts the server names; returns the upload id."""
    begun = post_json(client, "/disclose/sealed/uploads", {"v": 1, "size": len(blob)}, csrf)
    assert begun.status_code == 201, begun.text
    upload, size = begun.get_json()["upload"], begun.get_json()["part_bytes"]
    for n in range(-(-len(blob) // size)):
        assert put_part(client, upload, n, blob[n * size:(n + 1) * size], csrf).status_code == 201
    return upload


def swap_officer_key(data_dir, email: str) -> tuple[bytes, bytes]:
    """An attacker's X25519 pair, its public key written over `email`'s in the database (the
    signed roster still names the officer's own key). Returns (private, public)."""
    from tests.support import database
    private, public = crypto.generate_keypair()
    conn = database.connect(data_dir)
    conn.execute("UPDATE accounts SET public_key = ? WHERE email = ?", [public, email])
    conn.commit()
    conn.close()
    return private, public


# The portal's own user, who owns its data directory as docs/deploy.md has it: the tests run as
# root, so `nobody` stands for it, and what root owns elsewhere is out of its reach.
PORTAL_USER = 65534


def sign_bundle(app, data_dir, monkeypatch, *, roots: dict[int, bytes] | None = None,
                seed: bytes | None = None):
    """Sign the sealing page's bundle into the data directory's seal-bundle/ (so no file is
    written into the repository), with the roots the portal serves now unless `roots` is given,
    and install its release key as an operator does (install_release_key); the folder it wrote."""
    from crypto import bundle
    from portal.operations import release_bundle

    if roots is None:
        served = app.test_client().get("/disclose/sealed/roots").get_json()["roots"]
        roots = {int(c): unb64(r) for c, r in served.items()}
    key_text = bundle.release_key_document(seed or secrets.token_bytes(32))
    out = release_bundle.sign_into_data_dir(data_dir, key_text, roots, "test")
    install_release_key(app, data_dir, monkeypatch, (out / release_bundle.RELEASE_KEY_NAME).read_bytes())
    return out


def install_release_key(app, data_dir, monkeypatch, public_document: bytes):
    """As docs/deploy.md (7c) has the operator do: the release key written outside the data
    directory, into a folder root owns (mode 0755, the file 0644), the data directory handed to
    the portal's user, and PORTAL_RELEASE_KEY naming the file for a portal served from now on and
    for `app`; the file's path."""
    import dataclasses
    import os

    folder = data_dir.parent / "etc-portal"
    folder.mkdir(mode=0o755, exist_ok=True)
    key_file = folder / "release-key.json"
    key_file.write_bytes(public_document)
    key_file.chmod(0o644)
    os.chown(data_dir, PORTAL_USER, PORTAL_USER)
    monkeypatch.setenv("PORTAL_RELEASE_KEY", str(key_file))
    settings = app.config["PORTAL_SETTINGS"]
    app.config["PORTAL_SETTINGS"] = dataclasses.replace(settings, release_key_file=str(key_file))
    return key_file
