"""The wheel that `pip install .` builds carries templates/ and static/ inside the package, and a fresh
virtual environment with only that wheel installed (no editable install, no source tree on the path)
finds them and serves pages."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow

# What a copy of the working tree leaves out: environments, caches, earlier build output (a stale
# build/lib would hide files missing from the package data) and local data.
IGNORED = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
                                 ".pytest_cache", ".hypothesis", "node_modules", "instance", "bench")
REQUIRED = ["portal/templates/base.html", "portal/templates/intake/disclose.html", "portal/static/portal.css",
            "crypto/__init__.py", "portal/web/app.py", "portal/cli/__init__.py", "portal/core/resources.py"]

CHECK_INSTALLED = """
import sys
from pathlib import Path
import portal, crypto
from portal.core import resources
templates, static = resources.templates_dir(), resources.static_dir()
print(Path(portal.__file__).resolve().parent)
print(Path(crypto.__file__).resolve().parent)
print(templates.resolve())
print(static.resolve())
for path in (templates / "base.html", templates / "intake/disclose.html", static / "portal.css"):
    assert path.is_file(), path

# The installed package serves pages: the landing page and the disclosure form render from the
# templates inside site-packages and link the stylesheet, which is served too.
import os
os.environ["PORTAL_LANGUAGES"] = "en,mi"
from portal.web.app import create_app
app = create_app(Path(sys.argv[1]))
client = app.test_client()
for page in ("/", "/disclose"):
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    assert b'href="/static/portal.css"' in response.data, page
css = client.get("/static/portal.css")
assert css.status_code == 200 and css.data == (static / "portal.css").read_bytes()
# The compiled te reo Māori catalogue inside site-packages is read (issue 28).
assert "Tukuna he whakapuaki" in client.get("/", headers={"Accept-Language": "mi"}).text
print("served")
"""


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_ships_templates_and_static_and_a_fresh_venv_serves_pages(tmp_path):
    # Build from a clean copy of the working tree, exactly as `pip install .` does (pip builds a wheel).
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    wheel_dir = tmp_path / "wheels"
    built = run(sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "--wheel-dir", wheel_dir, source)
    [wheel] = wheel_dir.glob("*.whl")
    # Installing prints no setuptools warning: the licence is an SPDX string, every shipped folder is listed.
    build_log = built.stdout + built.stderr
    assert "deprecated" not in build_log.lower(), build_log[-3000:]
    assert "absent from the `packages` configuration" not in build_log, build_log[-3000:]

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [name for name in REQUIRED if name not in names]
    assert missing == [], f"missing from {wheel.name}: {missing}"
    # Every language's catalogue ships compiled (setup.py), so an installed portal speaks it.
    catalogues = [po.relative_to(source).with_suffix(".mo").as_posix()
                  for po in (source / "portal/translations").glob("*/LC_MESSAGES/messages.po")]
    assert "portal/translations/mi/LC_MESSAGES/messages.mo" in catalogues
    assert [name for name in catalogues if name not in names] == [], f"catalogues missing from {wheel.name}"
    # Every module of the source, subpackages included, is in the wheel.
    modules = [path.relative_to(source).as_posix() for package in ("crypto", "portal")
               for path in (source / package).rglob("*.py")]
    assert [name for name in modules if name not in names] == [], "modules missing from the wheel"
    # Every file of the top-level templates/ and static/ folders is in the wheel, under portal/.
    for folder in ("templates", "static"):
        for path in (source / folder).rglob("*"):
            if path.is_file():
                assert f"portal/{path.relative_to(source).as_posix()}" in names, path
    assert not [name for name in names if name.startswith(("tests/", "templates/", "static/"))]

    # A fresh virtual environment (no system site-packages) with only this wheel and its dependencies.
    env_dir = tmp_path / "fresh-venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", wheel)

    data_dir = tmp_path / "data"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PORTAL_"))}
    # The installed `portal` command sets up an installation; run from a folder with no source in it.
    run(env_dir / "bin" / "portal", "--data", data_dir, "init", "--insecure-fast-kdf", cwd=tmp_path, env=clean_env)
    run(env_dir / "bin" / "portal", "--data", data_dir, "channel", "add", "Audit and Risk", cwd=tmp_path, env=clean_env)
    out = run(python, "-c", CHECK_INSTALLED, data_dir, cwd=tmp_path, env=clean_env).stdout.splitlines()
    site_packages = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                             cwd=tmp_path, env=clean_env).stdout.strip()).resolve()
    portal_dir, crypto_dir, templates, static = (Path(line) for line in out[:4])
    assert portal_dir == site_packages / "portal"
    assert crypto_dir == site_packages / "crypto"
    assert templates == site_packages / "portal" / "templates"
    assert static == site_packages / "portal" / "static"
    assert out[4] == "served"
