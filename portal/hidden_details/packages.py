"""What the zip-and-XML formats (Office Open XML, OpenDocument) share: reading a zip within bounds
(a decompression bomb stops at MAX_TOTAL_BYTES or MAX_ENTRIES), parsing XML without entities, a DTD
or the network, and writing the package back in memory with its members' order and compression."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all members uncompressed together
_READ = 1024 * 1024


class Unreadable(Exception):
    """The file is not what its format says, or crosses a bound (a bomb): not checked."""


@dataclass
class Package:
    """A zip package in memory: its members in stored order (name -> bytes), and what was found."""

    infos: list[zipfile.ZipInfo]
    members: dict[str, bytes]
    found: set[str] = field(default_factory=set)

    def drop(self, name: str, kind: str) -> None:
        if name in self.members:
            del self.members[name]
            self.found.add(kind)


def read_package(data: bytes) -> Package:
    """Every member read, counting real bytes (a member's declared size may lie). Raises
    Unreadable."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise Unreadable("too many entries")
        members: dict[str, bytes] = {}
        total = 0
        for info in infos:
            if info.is_dir() or info.filename in members:
                continue
            parts = []
            with archive.open(info) as member:
                while chunk := member.read(_READ):
                    total += len(chunk)
                    if total > MAX_TOTAL_BYTES:
                        raise Unreadable("uncompressed size beyond the bound")
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
    return Package([i for i in infos if i.filename in members], members)


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


MAX_ELEMENTS = 1_000_000  # per XML part: a long real report has tens of thousands (issue 22)


def parse_xml(data: bytes) -> etree._Element:
    """The root element; Unreadable for XML that is malformed, declares a DTD (entities are how a
    billion-laughs bomb grows) or holds more than MAX_ELEMENTS elements (counted while parsing, so
    a bomb of many small elements stops early)."""
    events = etree.iterparse(
        io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True,
        load_dtd=False, huge_tree=False, remove_pis=False,
    )
    try:
        for count, _ in enumerate(events, 1):
            if count > MAX_ELEMENTS:
                raise Unreadable("too many XML elements")
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
