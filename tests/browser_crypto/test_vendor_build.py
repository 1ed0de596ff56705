"""static/seal/vendor/ is what scripts/vendor-seal.mjs makes from the packages package-lock.json pins:
a clean `npm ci --ignore-scripts` (from npm's cache when it has them) and the copy, in a temporary
directory, give byte-identical files, and nothing else is in the committed directory."""
from __future__ import annotations

import shutil
import subprocess

from tests.support import ROOT

VENDOR = ROOT / "static" / "seal" / "vendor"


def _files(top):
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in top.rglob("*") if p.is_file()}


def test_rebuilding_the_vendored_libraries_gives_the_committed_bytes(tmp_path):
    for name in ("package.json", "package-lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    subprocess.run(["npm", "ci", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=300)
    out = tmp_path / "vendor"
    subprocess.run(["/usr/bin/node", str(ROOT / "scripts" / "vendor-seal.mjs"),
                    "--from", str(tmp_path / "node_modules"), "--out", str(out)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120)
    rebuilt, committed = _files(out), _files(VENDOR)
    assert sorted(rebuilt) == sorted(committed)
    changed = [name for name in rebuilt if rebuilt[name] != committed[name]]
    assert changed == []
    assert b"@noble/hashes 2.4.0" in committed["VERSIONS.txt"]


def test_the_vendored_files_are_the_pinned_versions_of_the_registry():
    # The lock file pins each package's exact version and integrity hash (npm ci checks it).
    import json
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name in ("ciphers", "curves", "hashes"):
        entry = lock["packages"][f"node_modules/@noble/{name}"]
        assert entry["version"] == "2.4.0" and entry["integrity"].startswith("sha512-")
        assert f"@noble/{name} {entry['version']}" in (VENDOR / "VERSIONS.txt").read_text()
