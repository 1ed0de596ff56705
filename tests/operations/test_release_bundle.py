"""The sealing page's signed bundle through the `portal` command and over HTTP: a release key made
off the server signs the manifest of every file under static/seal/ with the roots it is given;
`portal verify-bundle` accepts that bundle and names any file added, missing or changed, a root
swapped or a signature by another key."""
from __future__ import annotations

import json
import os
import shutil

import nacl.signing
import pytest
from click.testing import CliRunner

from portal.cli import main as portal_cli
from tests.support import ROOT

SEAL = ROOT / "static" / "seal"


def run(*args):
    return CliRunner().invoke(portal_cli, [str(a) for a in args])


def _root_key():
    return bytes(nacl.signing.SigningKey.generate().verify_key)


@pytest.fixture
def release(tmp_path):
    """A copy of the served static/ folder, a release key and a signed bundle in it."""
    static = tmp_path / "static"
    shutil.copytree(SEAL, static / "seal")
    key = tmp_path / "offline" / "release.key"
    key.parent.mkdir()
    made = run("bundle-key", "new", "--out", key)
    assert made.exit_code == 0, made.output
    roots = tmp_path / "roster-roots.json"
    roots.write_text(json.dumps({"1": _root_key().hex(), "4": _root_key().hex()}))
    signed = run("sign-bundle", "--key", key, "--roots", roots, "--bundle-version", "2026.12.1",
                 "--seal-dir", static / "seal")
    assert signed.exit_code == 0, signed.output
    return static / "seal", key, roots


def verify(seal, key, *extra):
    return run("verify-bundle", "--seal-dir", seal, "--public-key", f"{key}.pub", *extra)


def test_the_release_key_is_private_and_never_overwritten(release):
    _, key, _ = release
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    before = key.read_text()
    again = run("bundle-key", "new", "--out", key)
    assert again.exit_code != 0 and "refusing to overwrite" in again.output
    assert key.read_text() == before


def test_a_good_bundle_verifies_with_the_public_key_in_hex_or_a_file(release):
    seal, key, roots = release
    by_file = verify(seal, key, "--roots", roots)
    assert by_file.exit_code == 0, by_file.output
    assert "verified: bundle 2026.12.1" in by_file.output and "2 channel roots" in by_file.output
    listed = sum(1 for p in seal.rglob("*") if p.is_file()) - 2
    assert f"{listed} files" in by_file.output
    public = (seal.parent.parent / "offline" / "release.key.pub").read_text().strip()
    by_hex = run("verify-bundle", "--seal-dir", seal, "--public-key", public)
    assert by_hex.exit_code == 0, by_hex.output


def test_the_manifest_lists_every_file_under_seal_with_its_hash_size_and_the_roots(release):
    import hashlib
    seal, _, roots = release
    manifest = json.loads((seal / "bundle-manifest.json").read_text())["manifest"]
    on_disk = {"/static/seal/" + p.relative_to(seal).as_posix(): p.read_bytes()
               for p in seal.rglob("*") if p.is_file() and not p.name.startswith("bundle-manifest")}
    extra = manifest["portal_bundle"]
    assert extra["sha256_hex"] == {p: hashlib.sha256(b).hexdigest() for p, b in on_disk.items()}
    assert extra["sizes"] == {p: len(b) for p, b in on_disk.items()}
    assert "/static/seal/portal-crypto.js" in manifest["files"]
    assert {c: r["root"] for c, r in extra["roots"].items()} == json.loads(roots.read_text())
    for name in ("app", "version", "default_csp", "default_index", "default_fallback"):
        assert manifest[name]


def test_a_page_added_before_signing_is_listed_without_a_hand_list(release):
    # The sealing page's own files (disclose.html and the like) are found when the bundle is signed.
    seal, key, roots = release
    (seal / "disclose.html").write_text("<!doctype html><title>Disclose</title>\n")
    (seal / "pages").mkdir()
    (seal / "pages" / "status.js").write_text("export {};\n")
    assert run("sign-bundle", "--key", key, "--roots", roots, "--seal-dir", seal).exit_code == 0
    files = json.loads((seal / "bundle-manifest.json").read_text())["manifest"]["files"]
    assert {"/static/seal/disclose.html", "/static/seal/pages/status.js"} <= set(files)
    assert verify(seal, key).exit_code == 0


def test_the_bundle_lists_the_release_public_key_the_page_checks_the_signature_with(release, tmp_path):
    seal, key, roots = release
    public = (seal.parent.parent / "offline" / "release.key.pub").read_text().strip()
    assert json.loads((seal / "release-key.json").read_text())["public_key"] == public
    manifest = json.loads((seal / "bundle-manifest.json").read_text())["manifest"]
    assert "/static/seal/release-key.json" in manifest["files"]
    # Signed elsewhere (off the server) and only the manifest and signature copied: it is missing.
    (seal / "release-key.json").unlink()
    assert run("sign-bundle", "--key", key, "--roots", roots, "--seal-dir", seal,
               "--out", tmp_path / "signed").exit_code == 0
    for name in ("bundle-manifest.json", "bundle-manifest.json.sig"):
        shutil.copy(tmp_path / "signed" / name, seal / name)
    forgot = verify(seal, key)
    assert forgot.exit_code == 1
    assert "missing (in the manifest, not served): /static/seal/release-key.json" in forgot.output
    shutil.copy(tmp_path / "signed" / "release-key.json", seal / "release-key.json")
    assert verify(seal, key).exit_code == 0


def test_a_changed_byte_in_any_file_fails_naming_it(release):
    seal, key, _ = release
    files = [p for p in seal.rglob("*") if p.is_file() and not p.name.startswith("bundle-manifest")]
    assert len(files) > 5
    for path in files:
        original = path.read_bytes()
        path.write_bytes(bytes([original[0] ^ 1]) + original[1:])
        result = verify(seal, key)
        path.write_bytes(original)
        served = "/static/seal/" + path.relative_to(seal).as_posix()
        assert result.exit_code == 1, served
        assert f"changed (its bytes differ from the manifest's hash): {served}" in result.output
    assert verify(seal, key).exit_code == 0


def test_an_added_file_and_a_removed_file_fail_naming_them(release):
    seal, key, _ = release
    (seal / "crypto" / "extra.js").write_text("export const x = 1;\n")
    added = verify(seal, key)
    assert added.exit_code == 1
    assert "added (not in the manifest): /static/seal/crypto/extra.js" in added.output
    (seal / "crypto" / "extra.js").unlink()
    (seal / "vendor" / "hashes" / "sha2.js").unlink()
    removed = verify(seal, key)
    assert removed.exit_code == 1
    assert "missing (in the manifest, not served): /static/seal/vendor/hashes/sha2.js" in removed.output


def test_a_swapped_root_fails(release):
    seal, key, roots = release
    path = seal / "bundle-manifest.json"
    doc = json.loads(path.read_text())
    doc["manifest"]["portal_bundle"]["roots"]["1"]["root"] = _root_key().hex()
    path.write_text(json.dumps(doc))
    swapped = verify(seal, key)
    assert swapped.exit_code == 3
    assert "signature does not verify: it was changed after it was signed" in swapped.output


def test_a_roots_file_other_than_the_signed_one_fails(release, tmp_path):
    seal, key, _ = release
    other = tmp_path / "other-roots.json"
    other.write_text(json.dumps({"1": _root_key().hex()}))
    result = verify(seal, key, "--roots", other)
    assert result.exit_code == 1 and "the manifest's roots are not those of" in result.output


def test_a_wrong_key_fails_both_ways(release, tmp_path):
    seal, key, roots = release
    wrong = run("verify-bundle", "--seal-dir", seal, "--public-key", _root_key().hex())
    assert wrong.exit_code == 3 and "signed by another key" in wrong.output
    # A bundle re-signed by another key is refused under the release key.
    assert run("bundle-key", "new", "--out", tmp_path / "other.key").exit_code == 0
    assert run("sign-bundle", "--key", tmp_path / "other.key", "--roots", roots,
               "--seal-dir", seal).exit_code == 0
    resigned = verify(seal, key)
    assert resigned.exit_code == 3 and "signed by another key" in resigned.output


def test_a_missing_signature_and_a_key_file_of_another_kind_are_refused(release, tmp_path):
    seal, key, roots = release
    not_a_key = tmp_path / "installation.json"
    not_a_key.write_text(json.dumps({"kind": "installation", "seed": "00" * 32}))
    refused = run("sign-bundle", "--key", not_a_key, "--roots", roots, "--seal-dir", seal)
    assert refused.exit_code == 1 and "not a bundle release key" in refused.output
    bad_root = tmp_path / "bad-roots.json"
    bad_root.write_text(json.dumps({"1": "00" * 32}))
    refused = run("sign-bundle", "--key", key, "--roots", bad_root, "--seal-dir", seal)
    assert refused.exit_code == 1 and "channel 1's root is not a valid Ed25519" in refused.output
    (seal / "bundle-manifest.json.sig").unlink()
    missing = verify(seal, key)
    assert missing.exit_code == 3 and "bundle-manifest.json.sig is missing" in missing.output


def test_a_checker_fetches_the_manifest_and_signature_and_every_file_over_http(app, release):
    from crypto import bundle
    seal, key, _ = release
    app.static_folder = str(seal.parent)
    client = app.test_client()
    document = client.get("/static/seal/bundle-manifest.json")
    signature = client.get("/static/seal/bundle-manifest.json.sig")
    assert document.status_code == 200 and signature.status_code == 200
    assert document.mimetype == "application/json"
    public = bytes.fromhex((seal.parent.parent / "offline" / "release.key.pub").read_text())
    manifest = bundle.verify_manifest(document.data, signature.data, public)
    served = {path: bundle.file_entry(client.get(path).data) for path in manifest.files}
    assert bundle.compare(manifest, served).none
    assert len(manifest.roots) == 2


def test_the_same_manifest_is_written_in_webcats_form_with_an_enrollment_naming_the_release_key(release, tmp_path):
    """`sign-bundle --webcat-out`: WEBCAT's manifest document (webcat-spec manifest.md) of the very
    manifest signed, and its Sigsum enrollment (server.md 1.1) whose one signer is the release key."""
    import base64
    seal, key, roots = release
    policy = tmp_path / "policy.b64"
    policy.write_text(base64.urlsafe_b64encode(b"compiled sigsum policy").decode().rstrip("=") + "\n")
    out = tmp_path / "well-known-webcat"
    signed = run("sign-bundle", "--key", key, "--roots", roots, "--bundle-version", "2026.12.2", "--seal-dir", seal,
                 "--webcat-out", out, "--webcat-policy", policy, "--webcat-cas-url", "https://cas.example.org/",
                 "--webcat-app", "https://example.org/portal")
    assert signed.exit_code == 0, signed.output
    assert "Sigsum proof is WEBCAT's tooling's to add" in signed.output
    assert verify(seal, key, "--roots", roots).exit_code == 0  # nothing of WEBCAT's in the bundle
    ours = json.loads((seal / "bundle-manifest.json").read_text())["manifest"]
    webcat = json.loads((out / "manifest.json").read_text())
    assert set(webcat) == {"manifest", "signatures"} and webcat["signatures"] == {"sigsum": {}}
    body = webcat["manifest"]
    assert body["files"] == ours["files"] and body["version"] == "2026.12.2"
    assert body["default_csp"] == ours["default_csp"] and body["portal_bundle"] == ours["portal_bundle"]
    assert body["default_index"] == "static/seal/disclose.html" and body["default_fallback"] in body["files"]
    assert "/" + body["default_index"] in body["files"]
    assert body["app"] == "https://example.org/portal" and body["wasm"] == [] and body["extra_csp"] == {}
    enrollment = json.loads((out / "enrollment.json").read_text())
    public = bytes.fromhex((seal.parent.parent / "offline" / "release.key.pub").read_text().strip())
    assert enrollment == {"type": "sigsum", "signers": [base64.urlsafe_b64encode(public).decode().rstrip("=")],
                          "threshold": 1, "policy": policy.read_text().strip(), "max_age": 60 * 24 * 3600,
                          "cas_url": "https://cas.example.org/"}
    # Without a policy, the manifest only; a policy that is not base64url, or a plain-http CAS, is refused.
    alone = run("sign-bundle", "--key", key, "--roots", roots, "--seal-dir", seal, "--webcat-out", tmp_path / "m")
    assert alone.exit_code == 0 and sorted(p.name for p in (tmp_path / "m").iterdir()) == ["manifest.json"]
    policy.write_text("not base64url!\n")
    before = (seal / "bundle-manifest.json").read_bytes()
    bad = run("sign-bundle", "--key", key, "--roots", roots, "--seal-dir", seal, "--webcat-out", out,
              "--webcat-policy", policy, "--webcat-cas-url", "https://cas.example.org/")
    assert bad.exit_code != 0 and "Sigsum policy must be a base64url string" in bad.output
    assert (seal / "bundle-manifest.json").read_bytes() == before  # refused before anything is written
    half = run("sign-bundle", "--key", key, "--roots", roots, "--seal-dir", seal, "--webcat-out", out,
               "--webcat-policy", policy)
    assert half.exit_code == 2 and "go together" in half.output


def test_the_release_key_is_served_from_a_file_root_owns_never_from_the_data_directory(app, installation,
                                                                                       monkeypatch):
    # Whoever writes the data directory must not choose the key the page checks the bundle with
    # (the fresh review's H1): a key signed into seal-bundle/ there is never served, and the
    # operator's PORTAL_RELEASE_KEY only while the portal's user cannot change it.
    import dataclasses

    from crypto import bundle
    from portal.operations import release_bundle
    from tests.support.sealing import PORTAL_USER, install_release_key
    data_dir, client = installation.data_dir, app.test_client()
    out = release_bundle.sign_into_data_dir(
        data_dir, bundle.release_key_document(os.urandom(32)), {1: _root_key()}, "t")
    assert (out / "release-key.json").is_file()
    assert client.get("/static/seal/release-key.json").status_code == 404
    assert client.get("/static/seal/bundle-manifest.json").data == (out / "bundle-manifest.json").read_bytes()
    operators = b'{"format": "portal-bundle-ed25519-v1", "public_key": "' + b"ab" * 32 + b'"}'
    key_file = install_release_key(app, data_dir, monkeypatch, operators)
    assert client.get("/static/seal/release-key.json").data == operators
    settings = app.config["PORTAL_SETTINGS"]

    def refused(path, because):
        app.config["PORTAL_SETTINGS"] = dataclasses.replace(settings, release_key_file=str(path))
        assert because in release_bundle.release_key_problem(app.config["PORTAL_SETTINGS"])
        assert client.get("/static/seal/release-key.json").status_code == 404

    refused(out / "release-key.json", "is in the data directory")
    link = key_file.parent / "linked.json"
    link.symlink_to(out / "release-key.json")
    refused(link, "is in the data directory")
    refused("etc-portal/release-key.json", "is not an absolute path")
    key_file.parent.chmod(0o775)
    refused(key_file, "can be written by its group or by everyone")
    key_file.parent.chmod(0o755)
    os.chown(key_file, PORTAL_USER, PORTAL_USER)
    refused(key_file, "is owned by the portal's user")
    os.chown(key_file, 0, 0)
    os.chown(key_file.parent, PORTAL_USER, PORTAL_USER)
    refused(key_file, "is owned by the portal's user")
    os.chown(key_file.parent, 0, 0)
    # A link in a sticky folder (as /tmp) to the operator's key: served while root owns the link,
    # refused once the portal's user does, who could then replace it to name another file.
    sticky = key_file.parent.parent / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    sticky_link = sticky / "release-key.json"
    sticky_link.symlink_to(key_file)
    app.config["PORTAL_SETTINGS"] = dataclasses.replace(settings, release_key_file=str(sticky_link))
    assert client.get("/static/seal/release-key.json").data == operators
    os.lchown(sticky_link, PORTAL_USER, PORTAL_USER)
    assert key_file.stat().st_uid == 0  # the file it names is still root's
    refused(sticky_link, "is a link owned by the portal's user")
    # The demo's way (`make run`): unchecked, so served from the data directory, as it says.
    app.config["PORTAL_SETTINGS"] = dataclasses.replace(
        settings, release_key_file=str(out / "release-key.json"), release_key_unchecked=True)
    assert client.get("/static/seal/release-key.json").data == (out / "release-key.json").read_bytes()


def test_a_chain_of_links_is_followed_one_link_at_a_time_and_each_link_and_folder_checked(
        app, installation, monkeypatch):
    # The last review's LOW: S/a -> S/b -> the key, in a sticky folder, where root owns S/a but
    # the portal's user owns S/b (and so may point it at a key of their own). Each link on the
    # way, and each folder its target goes through, is held to the rules the first link is.
    import dataclasses

    from crypto import bundle
    from portal.operations import release_bundle
    from tests.support.sealing import PORTAL_USER, install_release_key
    client = app.test_client()
    operators = bundle.public_key_document(os.urandom(32))
    key_file = install_release_key(app, installation.data_dir, monkeypatch, operators)
    settings = app.config["PORTAL_SETTINGS"]

    def served(path):
        app.config["PORTAL_SETTINGS"] = dataclasses.replace(settings, release_key_file=str(path))
        return client.get("/static/seal/release-key.json")

    def refused(path, because):
        assert served(path).status_code == 404
        assert because in release_bundle.release_key_problem(app.config["PORTAL_SETTINGS"])

    sticky = key_file.parent.parent / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    (sticky / "b").symlink_to(key_file)
    (sticky / "a").symlink_to(sticky / "b")
    assert served(sticky / "a").data == operators  # root owns both links: served
    os.lchown(sticky / "b", PORTAL_USER, PORTAL_USER)
    refused(sticky / "b", f"{sticky / 'b'} is a link owned by the portal's user")
    refused(sticky / "a", f"{sticky / 'b'} is a link owned by the portal's user")
    # A relative target is read against its link's folder: c -> ../etc-portal/release-key.json,
    # then through a folder (open/) whose group may write, which the target passes through.
    (sticky / "c").symlink_to(os.path.join("..", key_file.parent.name, key_file.name))
    assert served(sticky / "c").data == operators
    opened = key_file.parent.parent / "open"
    opened.mkdir()
    (opened / "hop").symlink_to(key_file)
    opened.chmod(0o775)
    (sticky / "d").symlink_to(os.path.join("..", "open", "hop"))
    refused(sticky / "d", f"{opened} can be written by its group or by everyone")
    opened.chmod(0o755)
    assert served(sticky / "d").data == operators
    # A folder on the way that is itself a link: followed and checked the same way.
    (sticky / "etc").symlink_to(key_file.parent)
    assert served(sticky / "etc" / key_file.name).data == operators
    os.lchown(sticky / "etc", PORTAL_USER, PORTAL_USER)
    refused(sticky / "etc" / key_file.name, f"{sticky / 'etc'} is a link owned by the portal's user")
    # A loop, and a chain longer than the bound, are refused in plain words.
    (sticky / "loop1").symlink_to(sticky / "loop2")
    (sticky / "loop2").symlink_to(sticky / "loop1")
    refused(sticky / "loop1", "goes through more than")
    previous = key_file
    for n in range(release_bundle.MAX_LINKS + 1):
        (sticky / f"long{n}").symlink_to(previous)
        previous = sticky / f"long{n}"
    assert served(sticky / f"long{release_bundle.MAX_LINKS - 1}").data == operators
    refused(previous, "goes through more than")


def test_the_release_key_is_read_from_the_one_file_that_was_checked(app, installation, monkeypatch):
    # What is served is the checked file's bytes: a file put in its place after the check, or a
    # link to another, is refused rather than read (the handle's st_dev and st_ino, O_NOFOLLOW).
    from crypto import bundle
    from portal.operations import release_bundle
    from tests.support.sealing import install_release_key
    operators = bundle.public_key_document(os.urandom(32))
    key_file = install_release_key(app, installation.data_dir, monkeypatch, operators)
    data_dir = installation.data_dir
    checked = release_bundle.follow_release_key(key_file, data_dir)
    assert release_bundle.read_followed(checked) == operators
    other = key_file.with_name("other.json")
    other.write_bytes(bundle.public_key_document(os.urandom(32)))
    os.replace(other, key_file)  # after the check, another file by the same name
    with pytest.raises(release_bundle.ReleaseKeyRefused, match="changed while it was checked"):
        release_bundle.read_followed(checked)
    checked = release_bundle.follow_release_key(key_file, data_dir)
    key_file.rename(other)
    key_file.symlink_to(other)  # after the check, a link where the file was
    with pytest.raises(release_bundle.ReleaseKeyRefused, match="could not be opened"):
        release_bundle.read_followed(checked)
    assert app.test_client().get("/static/seal/release-key.json").data == other.read_bytes()
