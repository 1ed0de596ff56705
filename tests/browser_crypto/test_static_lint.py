"""What the browser runs holds to the issue's rules: no Math.random anywhere under static/ (the
vendored libraries included), no WebAssembly under static/seal/, and every import of a module under
static/seal/ names a file under static/seal/ (nothing from another origin, no bare package names)."""
from __future__ import annotations

import re

from tests.support import ROOT

STATIC = ROOT / "static"
SEAL = STATIC / "seal"
IMPORT = re.compile(r"^(?:import|export)\b[^\n;]*?\bfrom\s*(['\"])([^'\"]+)\1|^import\s*(['\"])([^'\"]+)\3",
                    re.M)


def _scripts(top):
    return sorted(p for p in top.rglob("*") if p.is_file() and p.suffix in {".js", ".mjs", ".html"})


def test_no_math_random_under_static():
    assert len(_scripts(STATIC)) > 20  # the vendored libraries are there to be checked
    offenders = [p for p in _scripts(STATIC) if re.search(r"Math\s*\.\s*random", p.read_text())]
    assert offenders == []


def test_no_webassembly_under_static_seal():
    offenders = [p for p in _scripts(SEAL) if "WebAssembly" in p.read_text()]
    assert offenders == []


def test_every_import_under_static_seal_is_a_file_under_it():
    seen = 0
    for path in _scripts(SEAL):
        for match in IMPORT.finditer(path.read_text()):
            spec = match.group(2) or match.group(4)
            assert spec.startswith("./") or spec.startswith("../"), (path, spec)
            target = (path.parent / spec).resolve()
            assert target.is_file() and SEAL in target.parents, (path, spec)
            seen += 1
    assert seen > 30


def test_the_lint_finds_what_it_looks_for(tmp_path):
    # The patterns catch the spellings they are meant to (a lint that matches nothing proves nothing).
    assert re.search(r"Math\s*\.\s*random", "const x = Math . random();")
    assert IMPORT.search("import { a } from 'https://cdn.example/x.js';").group(2).startswith("https")
