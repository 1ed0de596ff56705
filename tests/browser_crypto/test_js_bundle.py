"""The sealing page checks the signed bundle manifest (static/seal/crypto/bundle.js) as
crypto.bundle does: a bundle signed by crypto.bundle verifies in the browser's code and gives its
roots; a manifest changed after signing, a signature by another key, a release key file other than
the one the manifest lists, or a malformed file is refused with a plain message; roots that differ
from the server's are named."""
from __future__ import annotations

import json

import pytest

from crypto import bundle
from tests.support.node_crypto import run_js

RELEASE_PATH = "/static/seal/release-key.json"
ROOT_1 = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")


def _signed(seed: bytes, roots=None, release_seed: bytes | None = None):
    """(release-key.json, bundle-manifest.json, .sig) bytes, signed by `seed`; the manifest lists
    the release key file of `release_seed` (default: the same seed)."""
    release = bundle.public_key_document(release_seed or seed)
    files = {RELEASE_PATH: bundle.file_entry(release),
             "/static/seal/portal-crypto.js": bundle.file_entry(b"export {};\n")}
    manifest = bundle.build_manifest(files, roots or {1: ROOT_1}, "2026.12.1", app="portal",
                                     csp="default-src 'none'", index="/static/seal/disclose.html")
    return release, bundle.manifest_document(manifest), bundle.sign_manifest(manifest, seed)


def _verify(release, manifest, signature):
    return run_js([("verifyBundle", [release, manifest, signature])])[0]


SEED = bytes(range(32))
OTHER = bytes(range(1, 33))


def test_a_signed_bundle_verifies_and_gives_its_roots():
    release, manifest, signature = _signed(SEED, {1: ROOT_1, 4: bytes.fromhex(
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")})
    found = _verify(release, manifest, signature)
    assert "error" not in found, found
    python = bundle.verify_manifest(manifest, signature, bundle.signer_of(signature))
    assert found["version"] == python.version == "2026.12.1"
    assert found["releaseKey"] == bundle.signer_of(signature)
    # Maps come back as {} through JSON: the roots are checked through rootsDiffering instead.
    same = {str(c): r for c, r in python.roots.items()}
    assert run_js([("rootsFromBundle", [release, manifest, signature])])[0] == same


def _tampered_root(manifest: bytes) -> bytes:
    doc = json.loads(manifest)
    doc["manifest"]["portal_bundle"]["roots"]["1"]["root"] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    return json.dumps(doc).encode()


@pytest.mark.parametrize("case, expected", [
    ("root swapped after signing", "signature does not verify"),
    ("signed by another key", "signed by another key"),
    ("release key file not the one listed", "not the one the manifest lists"),
    ("signature unreadable", "signature file is not readable"),
    ("manifest unreadable", "manifest is not readable"),
    ("no signature at all", "signature file is not readable"),
])
def test_a_bundle_that_does_not_verify_is_refused_plainly(case, expected):
    release, manifest, signature = _signed(SEED)
    if case == "root swapped after signing":
        manifest = _tampered_root(manifest)
    elif case == "signed by another key":
        # Re-signed by another key, with the real release key file served beside it.
        _, manifest, signature = _signed(OTHER, release_seed=SEED)
    elif case == "release key file not the one listed":
        # release-key.json swapped for another key that signed a manifest listing the real
        # file: the signature checks against the served key, the listed hash does not.
        release = bundle.public_key_document(OTHER)
        _, manifest, signature = _signed(OTHER, release_seed=SEED)
    elif case == "signature unreadable":
        signature = b'{"format": "portal-bundle-ed25519-v1", "public_key": "zz"}'
    elif case == "manifest unreadable":
        manifest = b"<html>not found</html>"
    elif case == "no signature at all":
        signature = b""
    found = _verify(release, manifest, signature)
    assert found.get("error") == "BundleError", found
    assert expected in found["message"]


def test_roots_that_differ_from_the_servers_are_named():
    a, b = ROOT_1, bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert run_js([("rootsDifferingFrom", [{"1": a, "2": b}, {"1": a, "2": b}]),
                   ("rootsDifferingFrom", [{"1": a, "2": b}, {"1": b, "2": b}]),
                   ("rootsDifferingFrom", [{"1": a}, {"1": a, "3": b}])]) == [[], ["1"], ["3"]]
