"""The sealing page's signed static bundle: `portal bundle-key new`, `portal sign-bundle` (both run
off the server, where the release key is kept) and `portal verify-bundle` (offline, anywhere).
None of them opens the installation. docs/deploy.md, "The sealing page's signed bundle"."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal.cli.root import main
from portal.cli.words import Refused, _

# verify-bundle's exit codes (docs/interface.md): 2 is click's own for a usage error.
EXIT_VERIFIED = 0
EXIT_FILES_DIFFER = 1
EXIT_SIGNATURE_BAD = 3

_SEAL_DIR = click.option(
    "--seal-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The bundle's folder (default: the static/seal/ this portal serves).",
)


@main.group("bundle-key")
def bundle_key() -> None:
    """The release key that signs the sealing page's bundle: kept offline, never on the server."""


@bundle_key.command("new")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the secret key (mode 0600); its public key goes to OUT.pub.")
def bundle_key_new(out: Path) -> None:
    """Make a release key pair. Keep OUT offline (an encrypted USB stick in a safe), never on the
    server; publish OUT.pub's key to whoever checks the bundle."""
    from crypto import key_fingerprint
    from portal.operations.release_bundle import write_release_key

    try:
        public = write_release_key(out)
    except FileExistsError:
        raise Refused(_("%(file)s exists: refusing to overwrite a release key.", file=out))
    click.echo(_("wrote %(file)s (secret, mode 0600: keep it offline, never on the server)",
                 file=out))
    click.echo(_("public key %(key)s in %(file)s.pub, fingerprint %(fingerprint)s",
                 key=public.hex(), file=out, fingerprint=key_fingerprint(public)))


@main.command("sign-bundle")
@click.option("--key", "key_file", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The release key file `portal bundle-key new` wrote.")
@click.option("--roots", "roots_file", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The roster roots the page may trust: the operator's roster-roots.json.")
@click.option("--bundle-version", default=None,
              help="The bundle's version (default: the portal's version).")
@_SEAL_DIR
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the manifest and its signature (default: the bundle's folder).")
@click.option("--webcat-out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Also write the same manifest in WEBCAT's form into this folder (manifest.json,"
                   " and enrollment.json with --webcat-policy and --webcat-cas-url).")
@click.option("--webcat-policy", "webcat_policy", default=None,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A file holding the compiled Sigsum policy (base64url) for WEBCAT's enrollment.")
@click.option("--webcat-cas-url", default=None,
              help="The https:// URL of the content-addressed store WEBCAT's enrollment names.")
@click.option("--webcat-app", default=None,
              help="The project's URL for the WEBCAT manifest's `app` (default: the portal's"
                   " name).")
def sign_bundle(key_file: Path, roots_file: Path, bundle_version: str | None,
                seal_dir: Path | None, out: Path | None, webcat_out: Path | None,
                webcat_policy: Path | None, webcat_cas_url: str | None,
                webcat_app: str | None) -> None:
    """Sign the manifest of every file under static/seal/ with the roots in ROOTS, writing
    bundle-manifest.json and bundle-manifest.json.sig; with --webcat-out, the same manifest in
    WEBCAT's form too (manifest.json; with --webcat-policy and --webcat-cas-url, also WEBCAT's
    enrollment naming the release key, enrollment.json). Run it off the server."""
    from crypto.bundle import BundleError
    from portal.keys.roster_files import RosterFileError, read_roots
    from portal.operations import release_bundle

    if (webcat_policy is None) != (webcat_cas_url is None):
        raise click.UsageError(_("--webcat-policy and --webcat-cas-url go together."))
    if webcat_out is None and (webcat_policy or webcat_app):
        raise click.UsageError(_("--webcat-policy and --webcat-app need --webcat-out."))
    top = seal_dir or release_bundle.seal_dir()
    try:
        policy = None if webcat_policy is None else webcat_policy.read_text().strip()
        webcat = None if webcat_out is None else release_bundle.Webcat(
            webcat_out, policy, webcat_cas_url, webcat_app)
        roots = read_roots(roots_file)
        count = release_bundle.sign(top, key_file.read_text(), roots,
                                    bundle_version or _portal_version(), out or top, webcat)
    except (BundleError, RosterFileError) as exc:
        raise Refused(_("Nothing was signed: %(problem)s.", problem=exc))
    click.echo(_("signed %(files)s files and %(roots)s channel roots into %(dir)s",
                 files=count, roots=len(roots), dir=out or top))
    if webcat is not None:
        made = (_("manifest.json and enrollment.json") if webcat.policy
                else _("manifest.json (no enrollment.json: no --webcat-policy)"))
        click.echo(_("WEBCAT: %(made)s in %(dir)s; its Sigsum proof is WEBCAT's tooling's to add"
                     " (docs/deploy.md, 7c)", made=made, dir=webcat_out))


@main.command("verify-bundle")
@click.option("--public-key", default=None, metavar="HEX|FILE",
              help="The release public key, in hex or a file holding it (OUT.pub).")
@click.option("--roots", "roots_file", default=None,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Also check that the manifest's roots are exactly this roots file's.")
@_SEAL_DIR
def verify_bundle(public_key: str | None, roots_file: Path | None, seal_dir: Path | None) -> None:
    """Check offline that every file served under static/seal/ is the one the signed manifest
    lists, naming any file added, missing or changed. Exit 0 verified, 1 files or roots differ,
    3 the manifest or signature is missing, unreadable or bad (or by another key), 2 usage."""
    from crypto import key_fingerprint
    from crypto.bundle import BundleError
    from portal.keys.roster_files import RosterFileError, read_roots
    from portal.operations import release_bundle

    top = seal_dir or release_bundle.seal_dir()
    try:
        trusted = None if public_key is None else _public_key(public_key)
        result = release_bundle.check(top, trusted)
        expected_roots = None if roots_file is None else read_roots(roots_file)
    except (BundleError, RosterFileError) as exc:
        # The verdict word stays as it is, for scripts; what follows is the operator's.
        click.echo("NOT VERIFIED: " + _("%(problem)s.", problem=exc), err=True)
        sys.exit(EXIT_SIGNATURE_BAD)
    found = result.differences
    problems = [_("added (not in the manifest): %(file)s", file=p) for p in found.added]
    problems += [_("missing (in the manifest, not served): %(file)s", file=p)
                 for p in found.missing]
    problems += [_("changed (its bytes differ from the manifest's hash): %(file)s", file=p)
                 for p in found.changed]
    if expected_roots is not None and expected_roots != result.manifest.roots:
        problems.append(_("the manifest's roots are not those of %(file)s", file=roots_file))
    if problems:
        click.echo("NOT VERIFIED: " + _("the served bundle is not the signed one."), err=True)
        for line in problems:
            click.echo(f"  {line}", err=True)
        sys.exit(EXIT_FILES_DIFFER)
    details = _(
        "bundle %(version)s, %(files)s files, %(roots)s channel roots, signed by %(fingerprint)s",
        version=result.manifest.version, files=len(result.manifest.files),
        roots=len(result.manifest.roots), fingerprint=key_fingerprint(result.signer))
    click.echo(f"verified: {details}")
    if public_key is None:
        click.echo(_("No --public-key given: compare that fingerprint with the release key's."))


def _public_key(value: str) -> bytes:
    from crypto.bundle import BundleError

    text = value.strip()
    if not _is_hex32(text):
        try:
            text = Path(value).read_text().strip()
        except OSError:
            raise BundleError(_("--public-key is neither 64 hex digits nor a readable file"))
    if not _is_hex32(text):
        raise BundleError(_("--public-key does not hold a public key of 64 hex digits"))
    return bytes.fromhex(text)


def _is_hex32(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def _portal_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("protected-disclosure-portal")
    except PackageNotFoundError:
        return "0.0.0+source"
