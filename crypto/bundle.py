"""The signed manifest of the sealing page's static bundle (issue 27; SECURITY.md, "The sealing
page's signed bundle").

The manifest lists every file of `static/seal/` by its served path with its SHA-256 and size, the
roster roots the page may trust (channel id -> 32-byte Ed25519 root) and a bundle version. It is
shaped as a WEBCAT manifest (freedomofpress/webcat-spec, manifest.md): a `manifest` object with
`app`, `version`, `default_csp`, `files` (path -> base64url SHA-256, no padding), `default_index`
and `default_fallback`, plus the portal's own fields under `portal_bundle`. The signature is
Ed25519 by a release key kept off the server, over the manifest's canonical bytes: JSON with keys
sorted, no whitespace, ASCII (RFC 8785 for this content, whose paths are printable ASCII). It is
detached, in a small JSON document of its own, because a WEBCAT `signatures` entry holds a Sigsum
proof that this module does not make. Pure functions over bytes; nothing here touches a file.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

import nacl.exceptions
import nacl.signing

from crypto.errors import CryptoError
from crypto.keys import key_fingerprint
from crypto.roster_format import RosterError, check_ed25519_public

FORMAT = 1
SIGNATURE_FORMAT = "portal-bundle-ed25519-v1"
RELEASE_KEY_KIND = "portal-bundle-release-key"


class BundleError(CryptoError):
    """A manifest, signature or release key that cannot be read or does not verify; the message
    says what is wrong in plain words."""


@dataclass(frozen=True)
class FileEntry:
    """One served file: its SHA-256 (32 bytes) and size in bytes."""

    sha256: bytes
    size: int


@dataclass(frozen=True)
class Differences:
    """Served paths that are not in the manifest, in it but not served, or served changed."""

    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def none(self) -> bool:
        return not (self.added or self.missing or self.changed)


@dataclass(frozen=True)
class Manifest:
    """A manifest whose signature verified: its version, files and roots."""

    version: str
    files: dict[str, FileEntry]
    roots: dict[int, bytes]


def file_entry(content: bytes) -> FileEntry:
    """The entry for a file with these bytes."""
    return FileEntry(hashlib.sha256(content).digest(), len(content))


def new_release_key() -> tuple[bytes, bytes]:
    """A fresh Ed25519 release key pair: (32-byte seed, 32-byte public key)."""
    key = nacl.signing.SigningKey.generate()
    return bytes(key), bytes(key.verify_key)


def release_public_key(seed: bytes) -> bytes:
    """The release key's 32-byte Ed25519 public key."""
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def release_key_document(seed: bytes) -> str:
    """The secret key file's text: JSON naming its kind, the seed and the public key (hex)."""
    public = bytes(nacl.signing.SigningKey(seed).verify_key)
    doc = {"kind": RELEASE_KEY_KIND, "seed": seed.hex(), "public_key": public.hex()}
    return json.dumps(doc, indent=1) + "\n"


def public_key_document(seed: bytes) -> bytes:
    """The release public key as a file of the bundle (`static/seal/release-key.json`), so the
    page can check the manifest's signature with a key that the manifest itself lists."""
    public = bytes(nacl.signing.SigningKey(seed).verify_key)
    doc = {"format": SIGNATURE_FORMAT, "public_key": public.hex(),
           "fingerprint": key_fingerprint(public)}
    return (json.dumps(doc, indent=1) + "\n").encode()


def read_release_key(text: str) -> bytes:
    """The seed from a release key file's text; BundleError for any other file (an
    installation's signing key or proof key is refused by its kind)."""
    try:
        doc = json.loads(text)
        if doc.get("kind") != RELEASE_KEY_KIND:
            raise BundleError("that file is not a bundle release key (`portal bundle-key new`)")
        seed = bytes.fromhex(doc["seed"])
    except (ValueError, AttributeError, KeyError, TypeError):
        raise BundleError("the release key file is not readable") from None
    if len(seed) != 32 or bytes(nacl.signing.SigningKey(seed).verify_key).hex() != doc.get(
        "public_key"
    ):
        raise BundleError("the release key file is damaged (its public key does not match)")
    return seed


def build_manifest(
    files: dict[str, FileEntry],
    roots: dict[int, bytes],
    version: str,
    *,
    app: str,
    csp: str,
    index: str,
) -> dict:
    """The manifest object (the WEBCAT `manifest`) for these served files and roots.

    `files` maps served paths ("/static/seal/portal-crypto.js") to entries; `roots` maps channel
    ids to roots, each checked as a valid Ed25519 key. BundleError for a bad path or root."""
    for path in files:
        if not (path.startswith("/") and path.isascii() and path.isprintable() and " " not in path):
            raise BundleError(f"the file name {path!r} is not plain printable ASCII")
    checked = {}
    for channel, root in sorted(roots.items()):
        try:
            checked[str(channel)] = {
                "root": check_ed25519_public(root, f"channel {channel}'s root").hex(),
                "fingerprint": key_fingerprint(root),
            }
        except RosterError as exc:
            raise BundleError(str(exc)) from None
    return {
        "app": app,
        "version": version,
        "default_csp": csp,
        "default_index": index,
        "default_fallback": index,
        "files": {p: _b64url(e.sha256) for p, e in sorted(files.items())},
        "portal_bundle": {
            "format": FORMAT,
            "sha256_hex": {p: e.sha256.hex() for p, e in sorted(files.items())},
            "sizes": {p: e.size for p, e in sorted(files.items())},
            "roots": checked,
        },
    }


WEBCAT_MAX_AGE = 60 * 24 * 3600  # seconds a WEBCAT manifest stays valid after its Sigsum timestamp


def webcat_manifest_document(manifest: dict, *, app: str | None = None) -> bytes:
    """The signed `manifest` as a WEBCAT manifest document (webcat-spec manifest.md, webcat-cli's
    manifest.ts): `{"manifest": {...}, "signatures": {"sigsum": {}}}` with the manifest's `version`,
    `default_csp`, `files` and `default_fallback`, `default_index` without its leading slash,
    empty `wasm` and `extra_csp`, `app` (WEBCAT wants the project's URL) and the portal's own
    fields kept. The Sigsum proofs (and the `timestamp` tree head) are WEBCAT's tooling's to add:
    they need a Sigsum log, which nothing here reaches. JSON, sorted, indented."""
    body = {
        **manifest,
        "app": app or manifest["app"],
        "default_index": manifest["default_index"].lstrip("/"),
        "wasm": [],
        "extra_csp": {},
    }
    document = {"manifest": body, "signatures": {"sigsum": {}}}
    return (json.dumps(document, sort_keys=True, indent=1) + "\n").encode()


def webcat_enrollment(signer: bytes, *, policy: str, cas_url: str,
                      max_age: int = WEBCAT_MAX_AGE, logs: dict[str, str] | None = None) -> bytes:
    """A WEBCAT Sigsum enrollment (webcat-spec server.md 1.1, served at
    /.well-known/webcat/enrollment.json): the release key (32-byte Ed25519, base64url) as the one
    signer, threshold 1, the compiled Sigsum `policy` (base64url, from webcat-cli's `enrollment
    create` or sigsum tooling), the content-addressed store's `cas_url`, `max_age` in seconds
    and the Sigsum `logs` (log key -> URL). BundleError for a bad key, an empty policy or a
    non-https URL."""
    try:
        key = check_ed25519_public(signer, "the release public key")
    except RosterError as exc:
        raise BundleError(str(exc)) from None
    if not policy or not all(c.isalnum() or c in "-_" for c in policy):
        raise BundleError("the Sigsum policy must be a base64url string")
    if not cas_url.startswith("https://"):
        raise BundleError("the CAS URL must be an https:// URL")
    if type(max_age) is not int or max_age < 1:
        raise BundleError("max_age must be a whole number of seconds")
    document = {"type": "sigsum", "signers": [_b64url(key)], "threshold": 1, "policy": policy,
                "max_age": max_age, "cas_url": cas_url, **({"logs": dict(logs)} if logs else {})}
    return (json.dumps(document, sort_keys=True, indent=1) + "\n").encode()


def canonical_bytes(manifest: dict) -> bytes:
    """The bytes the release key signs: sorted keys, no whitespace, ASCII."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def manifest_document(manifest: dict) -> bytes:
    """The served manifest file: {"manifest": ...}, as WEBCAT serves one, indented to read."""
    return (json.dumps({"manifest": manifest}, sort_keys=True, indent=1) + "\n").encode()


def sign_manifest(manifest: dict, seed: bytes) -> bytes:
    """The detached signature file: JSON with the format, the public key and the signature (hex)."""
    key = nacl.signing.SigningKey(seed)
    signature = key.sign(canonical_bytes(manifest)).signature
    doc = {
        "format": SIGNATURE_FORMAT,
        "public_key": bytes(key.verify_key).hex(),
        "signature": signature.hex(),
    }
    return (json.dumps(doc, indent=1) + "\n").encode()


def signer_of(signature_document: bytes) -> bytes:
    """The public key a signature file names (not trusted by itself: compare its fingerprint)."""
    return _signature_parts(signature_document)[0]


def verify_manifest(
    manifest_document_bytes: bytes, signature_document: bytes, public_key: bytes
) -> Manifest:
    """The manifest, if `signature_document` is a good signature of it by `public_key`.

    BundleError names what failed: an unreadable file, a signature by another key, or a
    signature that does not match (the manifest was changed after signing)."""
    try:
        trusted = check_ed25519_public(public_key, "the release public key")
    except RosterError as exc:
        raise BundleError(str(exc)) from None
    named, signature = _signature_parts(signature_document)
    if named != trusted:
        raise BundleError(
            f"the manifest is signed by another key ({key_fingerprint(named)}),"
            f" not the release key {key_fingerprint(trusted)}"
        )
    try:
        manifest = json.loads(manifest_document_bytes)["manifest"]
        body = canonical_bytes(manifest)
    except (ValueError, KeyError, TypeError):
        raise BundleError("the manifest is not readable") from None
    try:
        nacl.signing.VerifyKey(trusted).verify(body, signature)
    except nacl.exceptions.BadSignatureError:
        raise BundleError(
            "the manifest's signature does not verify: it was changed after it was signed"
        ) from None
    return _parsed(manifest)


def compare(manifest: Manifest, served: dict[str, FileEntry]) -> Differences:
    """What differs between the signed manifest and the files served now, each list sorted."""
    listed = manifest.files
    return Differences(
        added=sorted(set(served) - set(listed)),
        missing=sorted(set(listed) - set(served)),
        changed=sorted(p for p in set(listed) & set(served) if listed[p] != served[p]),
    )


def _signature_parts(document: bytes) -> tuple[bytes, bytes]:
    try:
        doc = json.loads(document)
        if doc["format"] != SIGNATURE_FORMAT:
            raise BundleError(f"the signature file's format is not {SIGNATURE_FORMAT}")
        public, signature = bytes.fromhex(doc["public_key"]), bytes.fromhex(doc["signature"])
    except (ValueError, KeyError, TypeError):
        raise BundleError("the signature file is not readable") from None
    if len(public) != 32 or len(signature) != 64:
        raise BundleError("the signature file is not readable")
    return public, signature


def _parsed(manifest: dict) -> Manifest:
    # Signed, so trusted; still read strictly so a signed-but-odd manifest fails plainly.
    try:
        extra = manifest["portal_bundle"]
        if extra["format"] != FORMAT:
            raise BundleError(f"the manifest's format is not {FORMAT}")
        files = {
            p: FileEntry(bytes.fromhex(h), int(extra["sizes"][p]))
            for p, h in extra["sha256_hex"].items()
        }
        if {p: _b64url(e.sha256) for p, e in files.items()} != manifest["files"]:
            raise BundleError("the manifest's two lists of hashes disagree")
        roots = {int(c): bytes.fromhex(r["root"]) for c, r in extra["roots"].items()}
        return Manifest(str(manifest["version"]), files, roots)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BundleError("the manifest is not readable") from None


def _b64url(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
