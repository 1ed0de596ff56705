"""The sealing page's static bundle on disk: listing every file under `static/seal/`, signing its
manifest with the release key off the server, and checking a served copy against it offline
(`portal bundle-key new`, `portal sign-bundle`, `portal verify-bundle`; docs/deploy.md, "The
sealing page's signed bundle"). The format is crypto/bundle.py's."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from crypto import bundle
from portal.core import resources

MANIFEST_NAME = "bundle-manifest.json"
SIGNATURE_NAME = "bundle-manifest.json.sig"
RELEASE_KEY_NAME = "release-key.json"
# WEBCAT's forms of the same manifest (crypto/bundle.py), for an operator to serve at
# /.well-known/webcat/ once WEBCAT's tooling has added the Sigsum proof.
WEBCAT_MANIFEST_NAME = "manifest.json"
WEBCAT_ENROLLMENT_NAME = "enrollment.json"
SERVED_PREFIX = "/static/seal/"
APP = "protected-disclosure-portal"
INDEX = SERVED_PREFIX + "disclose.html"
# The policy the sealing pages need: the portal's own (portal/web/app.py) with script and fetch
# from the portal's origin alone. A WEBCAT checker enforces the manifest's copy.
SEAL_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class Check:
    """The outcome of checking a served bundle: the verified manifest and what differs."""

    manifest: bundle.Manifest
    differences: bundle.Differences
    signer: bytes


def seal_dir() -> Path:
    """The `static/seal/` folder this installation serves."""
    return resources.static_dir() / "seal"


BUNDLE_FILES = (RELEASE_KEY_NAME, MANIFEST_NAME, SIGNATURE_NAME)
DATA_BUNDLE_DIR = "seal-bundle"


def bundle_file(settings, static_seal: Path, name: str) -> bytes | None:
    """The bytes served as `name` (one of BUNDLE_FILES), or None.

    The manifest and its signature: the data directory's `seal-bundle/` first (`portal
    sign-bundle --out DATA_DIR/seal-bundle`: they are signed, so whoever writes there can only
    serve another signed release), else the served `static_seal` folder. The release key, which
    decides whose signature the page accepts, never from the data directory: the operator's
    `settings.release_key_file` (PORTAL_RELEASE_KEY) as read_release_key_file reads it (checked,
    then read from the one handle checked), else the installed `static_seal` folder (the code
    itself)."""
    if name != RELEASE_KEY_NAME:
        folders = (settings.data_dir / DATA_BUNDLE_DIR, static_seal)
        found = next((folder / name for folder in folders if (folder / name).is_file()), None)
    elif not settings.release_key_file:
        found = static_seal / RELEASE_KEY_NAME
    elif settings.release_key_unchecked:
        found = Path(settings.release_key_file)  # the demo's own key in its data directory
    else:
        try:
            return read_release_key_file(Path(settings.release_key_file), settings.data_dir)
        except ReleaseKeyRefused:
            return None
    return found.read_bytes() if found is not None and found.is_file() else None


def release_key_problem(settings) -> str | None:
    """Why the operator's PORTAL_RELEASE_KEY is not served (release_key_refusal), or None when it
    is, is unset or is served unchecked (the demo)."""
    if not settings.release_key_file or settings.release_key_unchecked:
        return None
    return release_key_refusal(Path(settings.release_key_file), settings.data_dir)


IN_DATA_DIR = "is in the data directory, which the portal's user can write"
# As Linux's own bound on links followed in one path (MAXSYMLINKS, path_resolution(7)).
MAX_LINKS = 40


class ReleaseKeyRefused(Exception):
    """The operator's release key file is not served; the message says why in plain words."""


@dataclass(frozen=True)
class Followed:
    """Where a path ends once every symbolic link on the way is followed and checked: the file
    and its stat (st_dev, st_ino) at the moment of the check."""

    path: Path
    stat: os.stat_result


def release_key_refusal(path: Path, data_dir: Path) -> str | None:
    """Why the portal will not serve `path` as the release key, in plain words, or None
    (read_release_key_file, which also opens and reads it)."""
    try:
        read_release_key_file(path, data_dir)
    except ReleaseKeyRefused as refused:
        return str(refused)
    return None


def read_release_key_file(path: Path, data_dir: Path) -> bytes:
    """The bytes of `path`, the operator's release key, once follow_release_key finds nothing
    against it, read as read_followed reads them (so nothing swapped between the check and the
    read is served). ReleaseKeyRefused, saying why."""
    return read_followed(follow_release_key(path, data_dir))


def read_followed(followed: Followed) -> bytes:
    """The bytes of the file follow_release_key checked, from one handle opened without following
    a link in its last part, once its fstat is the checked file's (st_dev, st_ino).
    ReleaseKeyRefused if it is gone, is now a link, or is another file."""
    try:
        fd = os.open(followed.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise ReleaseKeyRefused(f"{followed.path} could not be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        now = os.fstat(handle.fileno())
        if (now.st_dev, now.st_ino) != (followed.stat.st_dev, followed.stat.st_ino):
            raise ReleaseKeyRefused(f"{followed.path} changed while it was checked")
        return handle.read()


def follow_release_key(path: Path, data_dir: Path) -> Followed:
    """Follow `path` to the file it names one part and one symbolic link at a time (os.readlink,
    a relative target read against its link's folder, at most MAX_LINKS links), checking each
    on the way; the file. ReleaseKeyRefused, saying why.

    A release key whoever runs as the portal's user could replace would let them re-sign the
    bundle with roots and a roster of their own (SECURITY.md, "The sealing page's signed
    bundle"). So the path must be absolute and end at a file outside `data_dir`, and no folder
    the walk goes through, nor that file, nor any symbolic link on the way (its own owner,
    lstat: a link in the middle of a chain too), may be owned by the user the portal runs as or
    by the data directory's owner (root aside: a portal run as root, a test, stands for the
    data directory's owner), nor (a link aside) be writable by its group or by everyone (a
    folder with the sticky bit, such as /tmp, aside)."""
    if not path.is_absolute():
        raise ReleaseKeyRefused(f"{path} is not an absolute path")
    data = data_dir.resolve()
    # Said first, as the plainest reason; the walk below decides (a loop never raises here).
    if Path(os.path.realpath(path)).is_relative_to(data):
        raise ReleaseKeyRefused(f"{path} {IN_DATA_DIR}")
    writers = {data_dir.stat().st_uid} | ({os.geteuid()} if os.geteuid() != 0 else set())
    here = Path("/")
    st = os.lstat(here)
    _check(here, st, writers, folder=True)
    pending = list(path.parts[1:])
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            here = here.parent  # a folder already checked on the way down
            st = os.lstat(here)
            continue
        if part == ".":
            continue
        place = here / part
        try:
            st = os.lstat(place)
            target = Path(os.readlink(place)) if stat.S_ISLNK(st.st_mode) else None
        except OSError as exc:
            raise ReleaseKeyRefused(f"{place} could not be read ({exc.strerror})") from None
        if target is not None:
            links += 1
            if links > MAX_LINKS:
                raise ReleaseKeyRefused(f"{path} goes through more than {MAX_LINKS} symbolic links")
            # A link's own mode is always 0777 and means nothing; its owner may replace it where
            # its folder is sticky (/tmp), to name another file.
            if st.st_uid in writers:
                raise ReleaseKeyRefused(
                    f"{place} is a link owned by the portal's user (uid {st.st_uid}): swappable")
            if target.is_absolute():
                here, pending = Path("/"), [*target.parts[1:], *pending]
            else:
                pending = [*target.parts, *pending]
            continue
        _check(place, st, writers, folder=bool(pending))
        here = place
    if not stat.S_ISREG(st.st_mode):
        raise ReleaseKeyRefused(f"{path} is not a file")
    if here.is_relative_to(data):
        raise ReleaseKeyRefused(f"{path} {IN_DATA_DIR}")
    return Followed(here, st)


def _check(place: Path, st: os.stat_result, writers: set[int], *, folder: bool) -> None:
    """ReleaseKeyRefused unless neither the portal's user nor `place`'s group nor everyone may
    change `place` (a folder, or the file at the walk's end; never a link), whose lstat is `st`."""
    if st.st_uid in writers:
        raise ReleaseKeyRefused(
            f"{place} is owned by the portal's user (uid {st.st_uid}), who could change it")
    sticky_folder = folder and st.st_mode & stat.S_ISVTX
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky_folder:
        raise ReleaseKeyRefused(f"{place} can be written by its group or by everyone")


def sign_into_data_dir(
    data_dir: Path, key_text: str, roots: dict[int, bytes], version: str
) -> Path:
    """Sign the served bundle into the data directory's `seal-bundle/` (folder 0700, files 0600,
    as every file there; the portal reads them as their owner); the folder."""
    out = data_dir / DATA_BUNDLE_DIR
    sign(seal_dir(), key_text, roots, version, out)
    os.chmod(out, 0o700)
    for name in BUNDLE_FILES:
        os.chmod(out / name, 0o600)
    return out


def served_files(top: Path) -> dict[str, bundle.FileEntry]:
    """Every file under `top` by its served path, except the manifest and its signature; symbolic
    links are followed as the static route follows them."""
    found = {}
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(top).as_posix()
        if rel in (MANIFEST_NAME, SIGNATURE_NAME) or not path.is_file():
            continue
        found[SERVED_PREFIX + rel] = bundle.file_entry(path.read_bytes())
    return found


def write_release_key(out: Path) -> bytes:
    """Write a new release key to `out` (mode 0600, refusing to overwrite) and its public key in
    hex to `out`.pub; the public key."""
    seed, public = bundle.new_release_key()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(bundle.release_key_document(seed))
    pub = out.with_name(out.name + ".pub")
    pub.write_text(public.hex() + "\n")
    os.chmod(pub, 0o644)
    return public


@dataclass(frozen=True)
class Webcat:
    """Where to write WEBCAT's forms, and what they need from the operator: the compiled Sigsum
    policy (base64url) and the CAS URL (both, or no enrollment is written), the project's URL for
    `app`, and Sigsum's logs (key -> URL)."""

    out: Path
    policy: str | None = None
    cas_url: str | None = None
    app: str | None = None
    logs: dict[str, str] | None = None


def sign(top: Path, key_text: str, roots: dict[int, bytes], version: str, out: Path,
         webcat: Webcat | None = None) -> int:
    """Sign the bundle in `top`: write the manifest, its signature and the release public key
    (listed in the manifest, replacing any older one) into `out`, and with `webcat` the same
    manifest as a WEBCAT manifest document in its folder (manifest.json; with a policy, also the
    WEBCAT enrollment naming the release key, enrollment.json); the number of files listed.
    BundleError for a bad key, file name, root or WEBCAT setting."""
    seed = bundle.read_release_key(key_text)
    public_document = bundle.public_key_document(seed)
    files = served_files(top)
    files[SERVED_PREFIX + RELEASE_KEY_NAME] = bundle.file_entry(public_document)
    manifest = bundle.build_manifest(files, roots, version, app=APP, csp=SEAL_CSP, index=INDEX)
    # WEBCAT's forms are made (and so checked) before anything is written.
    webcat_files = {} if webcat is None else webcat_documents(webcat, manifest, seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / RELEASE_KEY_NAME).write_bytes(public_document)
    (out / MANIFEST_NAME).write_bytes(bundle.manifest_document(manifest))
    (out / SIGNATURE_NAME).write_bytes(bundle.sign_manifest(manifest, seed))
    if webcat is not None:
        webcat.out.mkdir(parents=True, exist_ok=True)
        for name, content in webcat_files.items():
            (webcat.out / name).write_bytes(content)
    return len(manifest["files"])


def webcat_documents(webcat: Webcat, manifest: dict, seed: bytes) -> dict[str, bytes]:
    """WEBCAT's manifest document of `manifest`, and its enrollment when a policy is given, by
    file name. BundleError for a bad policy or CAS URL."""
    documents = {WEBCAT_MANIFEST_NAME: bundle.webcat_manifest_document(manifest, app=webcat.app)}
    if webcat.policy is not None:
        documents[WEBCAT_ENROLLMENT_NAME] = bundle.webcat_enrollment(
            bundle.release_public_key(seed), policy=webcat.policy, cas_url=webcat.cas_url or "",
            logs=webcat.logs)
    return documents


def check(top: Path, public_key: bytes | None) -> Check:
    """Check the bundle served from `top` against its signed manifest there.

    With `public_key` None the key the signature file names is used (integrity only: the caller
    shows its fingerprint to compare). BundleError if the manifest or signature is missing,
    unreadable or does not verify."""
    try:
        document = (top / MANIFEST_NAME).read_bytes()
        signature = (top / SIGNATURE_NAME).read_bytes()
    except FileNotFoundError as exc:
        raise bundle.BundleError(f"{Path(exc.filename).name} is missing from {top}") from None
    signer = bundle.signer_of(signature) if public_key is None else public_key
    manifest = bundle.verify_manifest(document, signature, signer)
    return Check(manifest, bundle.compare(manifest, served_files(top)), signer)
