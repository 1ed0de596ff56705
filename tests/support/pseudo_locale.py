"""A pseudo-locale built from the portal's own strings (issue 28): every message of the catalogue
extracted from templates/ and portal/ as `make translations` does (babel.cfg), accented and wrapped
in ⟦ ⟧, compiled into a folder of catalogues the app is pointed at. Text on a page that is not
inside ⟦ ⟧ was never translated: a string left out of the catalogue."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo

from tests.support import ROOT

ACCENTS = str.maketrans("aceinouyACEINOUY", "àçéîñöûýÀÇÉÎÑÖÛÝ")
# What must survive translation untouched: tags, entities, placeholders (%(name)s, %s, %%).
KEEP = re.compile(r"<[^>]*>|&\w+;|%\([a-z_]+\)[sd]|%[sd%]")
OPEN, CLOSE = "⟦", "⟧"


def transform(text: str) -> str:
    parts, pos = [], 0
    for m in KEEP.finditer(text):
        parts.append(text[pos:m.start()].translate(ACCENTS))
        parts.append(m.group(0))
        pos = m.end()
    parts.append(text[pos:].translate(ACCENTS))
    return OPEN + "".join(parts) + CLOSE


def messages() -> list:
    """(id, plural-or-None) of every string `make translations` would extract."""
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"trimmed": "true"}}
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "ngettext": (1, 2),
                                                  "lazy_gettext": None, "_l": None, "N_": None}
    ):
        found[message] = True
    return list(found)


def build(folder: Path, code: str, every: int = 1) -> Path:
    """Compile the pseudo catalogue for `code` into folder/<code>/LC_MESSAGES/messages.mo; with
    `every` 2, only every other message (a language half translated)."""
    catalogue = Catalog(locale=code)
    for message in messages()[::every]:
        if isinstance(message, tuple):
            forms = [transform(message[0])] + [transform(message[1])] * (catalogue.num_plurals - 1)
            catalogue.add(message, tuple(forms))
        else:
            catalogue.add(message, transform(message))
    target = folder / code / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        write_mo(out, catalogue)
    return folder


def compile_shipped(folder: Path, code: str) -> Path:
    """Compile the shipped portal/translations/<code> catalogue into folder/<code>/LC_MESSAGES/messages.mo,
    as `make venv` and the wheel do (fuzzy entries used)."""
    from babel.messages.pofile import read_po

    from portal.core import resources
    shipped = resources.translations_dir() / code / "LC_MESSAGES" / "messages.po"
    target = folder / code / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with shipped.open("rb") as po, target.open("wb") as mo:
        write_mo(mo, read_po(po, locale=code), use_fuzzy=True)
    return folder


def build_half(folder: Path, code: str) -> Path:
    """As build, with every other message left out of the catalogue: a language half translated,
    whose pages show the English of the other half (issue 28)."""
    return build(folder, code, every=2)


def build_gaps(folder: Path, code: str) -> Path:
    """The shipped catalogue of `code` compiled as the wheel compiles it, with each string it has
    no translation for given the pseudo-locale's (⟦ ⟧): on its pages, each ⟦ ⟧ is a piece that
    shows in English."""
    from babel.messages.pofile import read_po

    from portal.core import resources
    with (resources.translations_dir() / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=code)
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = tuple(transform(message.id[min(n, 1)])
                                       for n in range(catalogue.num_plurals))
        elif not message.string:
            message.string = transform(message.id)
    target = folder / code / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        write_mo(out, catalogue, use_fuzzy=True)
    return folder
