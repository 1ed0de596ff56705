"""The house plan (docs/architecture.md) holds: no import circles, layers that depend one way, views
without SQL or crypto, crypto without Flask, modules of at most 400 lines of at most 100 columns, a map
that names every package, and docs whose paths resolve."""
from __future__ import annotations

import ast
import graphlib
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    paths = [*(ROOT / "portal").rglob("*.py"), *(ROOT / "crypto").rglob("*.py")]
    return {_module_name(path): path for path in sorted(paths)}


MODULES = _modules()


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str | None:
    """The absolute name an ImportFrom refers to, relative ones (`from . import x`) resolved."""
    if node.level == 0:
        return node.module
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imported_names(module: str, path: Path) -> list[str]:
    """Every name `path` imports, at the top or inside a function, relative imports resolved;
    `from a import b` gives both a.b and a (b may be a module or a name in a)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            if base:
                names += [f"{base}.{alias.name}" for alias in node.names]
                # A module's own packages are imported before it anyway: no dependency on them.
                if not (module + ".").startswith(base + "."):
                    names.append(base)
    return names


def _imports(path: Path) -> set[str]:
    """Every module of portal/ or crypto/ that `path` imports."""
    found = set()
    for name in _imported_names(_module_name(path), path):
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _external_imports(path: Path) -> set[str]:
    """The top-level package of everything `path` imports (relative imports resolved)."""
    return {name.split(".")[0] for name in _imported_names(_module_name(path), path)}


def _map() -> list[tuple[int, str]]:
    """(layer, package) rows of the map in docs/architecture.md, top layer first."""
    rows = re.findall(r"^\| (\d+) \| `([\w.]+)` \|", ARCHITECTURE.read_text(), re.M)
    return [(int(layer), package) for layer, package in rows]


def _package_of(module: str, packages: list[str]) -> str:
    """The most specific package of the map that holds `module`."""
    holders = [p for p in packages if module == p or module.startswith(p + ".")]
    return max(holders, key=len)


def _family(package: str) -> str:
    # portal.web.intake and portal.web belong together, as do portal.store and its migrations.
    return ".".join(package.split(".")[:2])


def test_no_module_imports_another_in_a_circle():
    try:
        list(graphlib.TopologicalSorter(GRAPH).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(error.args[1])}")


def test_the_import_circle_check_finds_a_circle():
    circle = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    with pytest.raises(graphlib.CycleError):
        list(graphlib.TopologicalSorter(circle).static_order())


def test_every_import_goes_down_the_layers_of_the_map():
    layers = dict((package, layer) for layer, package in _map())
    packages = list(layers)
    wrong = []
    for module, imported in GRAPH.items():
        if module in ("portal", "portal.__main__"):
            continue                        # the entry point: `python -m portal` runs the CLI
        here = _package_of(module, packages)
        for other in imported:
            there = _package_of(other, packages)
            if _family(here) == _family(there):
                continue
            if layers[there] <= layers[here]:
                wrong.append(f"{module} ({here}, layer {layers[here]}) imports {other} "
                             f"({there}, layer {layers[there]})")
    assert wrong == []


VIEW_PLUMBING = {"portal.web.app", "portal.web.context", "portal.web.server"}


CRYPTO_AND_SQL = {"crypto", "sqlite3", "sqlite_utils", "nacl", "cryptography", "hashlib", "hmac"}


def test_views_do_no_sql_and_no_crypto():
    wrong = {}
    for module, path in MODULES.items():
        if not module.startswith("portal.web") or module in VIEW_PLUMBING:
            continue
        bad = _external_imports(path) & CRYPTO_AND_SQL
        bad |= {name for name in GRAPH[module] if name.startswith(("portal.store", "crypto"))}
        # Nor through the context's database: no `.execute(...)` and no `.db` in a view.
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "db"):
                bad.add(f"line {node.lineno}: .{node.attr}")
        if bad:
            wrong[module] = sorted(bad)
    assert wrong == {}


def test_crypto_knows_nothing_of_flask_or_the_portal():
    wrong = {module: sorted(_external_imports(path) & {"flask", "werkzeug", "flask_wtf", "portal"})
             for module, path in MODULES.items() if module.startswith("crypto")}
    assert {module: names for module, names in wrong.items() if names} == {}


def test_no_module_reads_a_variable_made_for_the_tests():
    """Production code has no hook for tests (a test wraps or kills the process from outside)."""
    hooked = [str(path.relative_to(ROOT)) for path in MODULES.values() if "PORTAL_TEST_" in path.read_text()]
    assert hooked == []


def test_no_module_is_longer_than_400_lines():
    exceptions = set(re.findall(r"^- `([\w/.]+\.py)`", ARCHITECTURE.read_text().split("## Exceptions")[1],
                                re.M))
    long = {str(path.relative_to(ROOT)): len(path.read_text().splitlines())
            for path in MODULES.values()}
    assert {path: count for path, count in long.items()
            if count > MAX_LINES and path not in exceptions} == {}


def test_no_line_is_longer_than_100_columns():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--quiet"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_map_names_every_package_and_only_packages_that_exist():
    named = {package for _, package in _map()}
    existing = {name for name, path in MODULES.items() if path.name == "__init__.py"} - {"portal"}
    assert sorted(existing - named) == [] and sorted(named - existing) == []
    # The folders of portal/ that are data, not code, are named too.
    data = sorted(path.name for path in (ROOT / "portal").iterdir()
                  if path.is_dir() and not (path / "__init__.py").exists() and path.name != "__pycache__")
    assert data == ["data", "translations"]
    assert all(f"`portal/{name}/`" in ARCHITECTURE.read_text() for name in data)


PATH = re.compile(r"(?<![\w/.-])((?:portal|crypto|tests|deploy|templates|static|scripts|docs|bench)/"
                  r"[\w./-]*?(?:\.(?:py|md|conf|html|css|json|service|txt|js)|/))(?![\w/])")
DOTTED = re.compile(r"(?<![\w/.-])((?:portal|crypto)(?:\.[A-Za-z_]\w*)+)")


def _documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").rglob("*.md")),
            *sorted(p for p in (ROOT / "deploy").rglob("*") if p.is_file()),
            *sorted((ROOT / "bench").glob("*.py"))]


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        if module in MODULES:
            target = importlib.import_module(module)
            for attribute in parts[cut:]:
                if not hasattr(target, attribute):
                    return False
                target = getattr(target, attribute)
            return True
    return False


def test_every_path_and_module_named_in_the_docs_exists():
    missing = []
    for document in _documents():
        text = document.read_text()
        for path in PATH.findall(text):
            if not (ROOT / path).exists() and path != "bench/out/":   # bench/out/: the benchmarks' output
                missing.append(f"{document.relative_to(ROOT)}: {path}")
        for dotted in DOTTED.findall(text):
            if dotted in ("portal.example", "portal.db", "portal.service", "portal.css") \
                    or dotted.startswith("portal.example."):
                continue                    # a host name and file names, not modules
            if not _resolves(dotted):
                missing.append(f"{document.relative_to(ROOT)}: {dotted}")
    assert missing == []


def test_every_import_of_the_portal_names_something_that_exists():
    """Imports inside functions too (the CLI's are): a name moved to another module fails here, not
    the first time an operator runs the command."""
    missing = []
    sources = [*MODULES.values(), *(p for p in (ROOT / "tests").rglob("*.py") if "data" not in p.parts),
               *(ROOT / "bench").glob("*.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                    and node.module.split(".")[0] in ("portal", "crypto", "tests")):
                continue
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name) and f"{node.module}.{alias.name}" not in MODULES:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
    assert missing == []


def _module_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> portal/crypto module, for every `from portal.x import module [as name]`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in ("portal", "crypto"):
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def test_every_attribute_read_from_a_portal_module_exists():
    """`audit.verify` where verify moved to audit_verify fails here, not when an operator runs it."""
    missing = []
    sources = [*MODULES.values(), *(p for p in (ROOT / "tests").rglob("*.py") if "data" not in p.parts),
               *(ROOT / "bench").glob("*.py")]
    for path in sources:
        tree = ast.parse(path.read_text())
        aliases = _module_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in aliases and isinstance(node.ctx, ast.Load):
                module = importlib.import_module(aliases[node.value.id])
                if not hasattr(module, node.attr) and f"{module.__name__}.{node.attr}" not in MODULES:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert sorted(set(missing)) == []


def test_every_code_folder_is_a_package_that_ships_in_the_wheel():
    """A folder of modules without __init__.py would be missed by the map and by the wheel."""
    import tomllib
    folders = {path.parent for path in [*(ROOT / "portal").rglob("*.py"), *(ROOT / "crypto").rglob("*.py")]}
    assert sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()) == []
    shipped = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {_module_name(folder / "__init__.py") for folder in folders}
    assert sorted(packages - shipped) == []


def test_every_migration_file_is_applied():
    from portal.store.migrations import MIGRATIONS
    files = sorted((ROOT / "portal" / "store" / "migrations").glob("m[0-9][0-9][0-9][0-9]_*.py"))
    numbers = [int(path.name[1:5]) for path in files]
    assert sorted(number for number, _ in MIGRATIONS) == numbers
