"""What the zip-and-XML formats (Office Open XML, OpenDocument) share: reading a zip within bounds,
parsing XML without entities, a DTD or the network, and writing the package back in memory with its
members' order and compression.

The bounds hold for the file as a whole, the packages embedded in it included (issue 22: a bound
per XML part let one package hold 10,000 parts of a million elements each): all its zip entries
together at most MAX_ENTRIES, their uncompressed bytes MAX_TOTAL_BYTES, the XML parts parsed
MAX_XML_PARTS and their elements MAX_PACKAGE_ELEMENTS, counted as it parses. Past one, TooLarge."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

MAX_ENTRIES = 10_000  # zip entries
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all members uncompressed together
# Parsing and cleaning take about 1.2 s of the child's CPU per million elements here, so a bomb
# costs at most about 2.5 s; a long real report has tens of thousands of elements, a spreadsheet
# of 500,000 cells about a million.
MAX_PACKAGE_ELEMENTS = 2_000_000
MAX_XML_PARTS = 4_000  # parsed: a deck of 1,000 slides has about 3,000 with their relationships
_READ = 1024 * 1024


class Unreadable(Exception):
    """The file is not what its format says, or crosses a bound (a bomb): not checked."""


class TooLarge(Unreadable):
    """The file crosses one of the bounds on the whole file (a bomb, or a file too large or too
    complex to check); the receipt says so, not that it looks damaged."""


@dataclass
class Budget:
    """What one file's check may still read and parse, shared by the package and every package
    embedded in it. The defaults are read when a budget is made, so a test may lower them."""

    entries: int = field(default_factory=lambda: MAX_ENTRIES)
    bytes: int = field(default_factory=lambda: MAX_TOTAL_BYTES)
    parts: int = field(default_factory=lambda: MAX_XML_PARTS)
    elements: int = field(default_factory=lambda: MAX_PACKAGE_ELEMENTS)


@dataclass
class Package:
    """A zip package in memory: its members in stored order (name -> bytes), what was found, and
    the budget of the file it belongs to."""

    infos: list[zipfile.ZipInfo]
    members: dict[str, bytes]
    found: set[str] = field(default_factory=set)
    budget: Budget = field(default_factory=Budget)

    def drop(self, name: str, kind: str) -> None:
        if name in self.members:
            del self.members[name]
            self.found.add(kind)

    def parse(self, name: str) -> etree._Element:
        """The root element of member `name`, charged to the file's budget (parse_xml)."""
        return parse_xml(self.members[name], self.budget)


def read_package(data: bytes, budget: Budget | None = None) -> Package:
    """Every member read, counting real bytes (a member's declared size may lie) against `budget`
    (a new one for a file of its own; the outer package's for one embedded in it). Raises
    TooLarge past a bound, Unreadable for what is not a readable zip."""
    budget = Budget() if budget is None else budget
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        budget.entries -= len(infos)
        if budget.entries < 0:
            raise TooLarge("too many entries")
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir() or info.filename in members:
                continue
            parts = []
            with archive.open(info) as member:
                while chunk := member.read(_READ):
                    budget.bytes -= len(chunk)
                    if budget.bytes < 0:
                        raise TooLarge("uncompressed size beyond the bound")
                    parts.append(chunk)
            members[info.filename] = b"".join(parts)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        NotImplementedError,
        RuntimeError,
        ValueError,
    ) as exc:  # RuntimeError: an encrypted member
        raise Unreadable("not a readable zip") from exc
    return Package([i for i in infos if i.filename in members], members, budget=budget)


def write_package(package: Package) -> bytes:
    """The package again, members in their first order, each compressed as it was (OpenDocument's
    `mimetype` must stay first and stored), with no time, comment or extra field of the original."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in package.infos:
            if info.filename not in package.members:
                continue
            fresh = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fresh.compress_type = info.compress_type
            fresh.external_attr = 0o644 << 16
            archive.writestr(fresh, package.members[info.filename])
    return out.getvalue()


def parse_xml(data: bytes, budget: Budget) -> etree._Element:
    """The root element, the part and its elements charged to `budget` (the file's, shared by all
    its parts). Unreadable for XML that is malformed or declares a DTD (entities are how a
    billion-laughs bomb grows); TooLarge past the budget's parts or elements (counted while
    parsing, so a bomb of many small elements stops early, in whichever part it crosses)."""
    budget.parts -= 1
    if budget.parts < 0:
        raise TooLarge("too many XML parts")
    events = etree.iterparse(
        io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True,
        load_dtd=False, huge_tree=False, remove_pis=False,
    )
    try:
        for _ in events:
            budget.elements -= 1
            if budget.elements < 0:
                raise TooLarge("too many XML elements")
        root = events.root
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise Unreadable("malformed XML") from exc
    if root is None:
        raise Unreadable("malformed XML")
    if root.getroottree().docinfo.doctype:
        raise Unreadable("XML with a DTD")
    return root


def xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def local(name: str) -> str:
    """An element or attribute's name without its namespace."""
    return name.rsplit("}", 1)[-1] if isinstance(name, str) else ""
