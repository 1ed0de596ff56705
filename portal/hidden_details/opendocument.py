"""OpenDocument (odt, ods, odp, odg): meta.xml emptied (authors, dates, editing cycles and time,
generator, template, user-defined properties, printed-by), settings.xml and thumbnails dropped
from the package and its manifest, and the names and dates on tracked changes and annotations
blanked in the content and styles; EXIF in embedded pictures removed. Embedded objects (a chart's
`Object 1/`) lose their own meta.xml's details and settings.xml the same way, and LibreOffice's
revision ids (officeooo:rsid, officeooo:paragraph-rsid) are removed from every XML part."""

from __future__ import annotations

from . import kinds
from .images import strip_embedded_pictures
from .ole import OLE_MAGIC, empty_ole_objects
from .packages import Package, Unreadable, local, read_package, write_package, xml_bytes

_META_KINDS = {
    "initial-creator": kinds.AUTHOR,
    "creator": kinds.AUTHOR,
    "creation-date": kinds.DATES,
    "date": kinds.DATES,
    "print-date": kinds.DATES,
    "printed-by": kinds.AUTHOR,
    "editing-cycles": kinds.EDIT_HISTORY,
    "editing-duration": kinds.EDIT_HISTORY,
    "generator": kinds.SOFTWARE,
    "template": kinds.PATHS,
    "document-statistic": None,
}
_FIXED_DATE = "1970-01-01T00:00:00"


def _is_meta(name: str) -> bool:
    return name == "meta.xml" or name.endswith("/meta.xml")


def _empty_meta(package: Package, name: str) -> None:
    root = package.parse(name)
    for holder in root:
        if local(holder.tag) != "meta":
            continue
        for child in list(holder):
            kind = _META_KINDS.get(local(child.tag), kinds.PROPERTIES)
            if kind:
                package.found.add(kind)
            holder.remove(child)
    package.members[name] = xml_bytes(root)


def _clean_content(package: Package, name: str) -> None:
    """Tracked changes (office:change-info) and annotations: their dc:creator blanked, their
    dc:date set to one fixed moment (the schema wants one)."""
    root = package.parse(name)
    changed = False
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in [a for a in element.attrib if local(a).endswith("rsid")]:
            del element.attrib[attribute]  # LibreOffice's per-session revision ids
            package.found.add(kinds.EDIT_HISTORY)
            changed = True
        if local(element.tag) not in (
            "change-info",
            "annotation",
        ):
            continue
        kind = (
            kinds.TRACKED_CHANGES
            if local(element.tag) == "change-info"
            else (kinds.COMMENT_AUTHORS)
        )
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if local(child.tag) == "creator" and child.text:
                child.text = ""
            elif local(child.tag) == "date" and child.text != _FIXED_DATE:
                child.text = _FIXED_DATE
            elif local(child.tag) in ("sender-initials", "creator-initials") and child.text:
                child.text = ""
            else:
                continue
            package.found.add(kind)
            changed = True
    if changed:
        package.members[name] = xml_bytes(root)


def _drop_from_manifest(package: Package, dropped: set[str]) -> None:
    name = "META-INF/manifest.xml"
    if name not in package.members or not dropped:
        return
    root = package.parse(name)
    for entry in list(root):
        path = next((v for k, v in entry.attrib.items() if local(k) == "full-path"), "")
        if path in dropped or path == "Thumbnails/":
            root.remove(entry)
    package.members[name] = xml_bytes(root)


def clean_opendocument(data: bytes) -> tuple[bytes, set[str]]:
    """Raises Unreadable (no `mimetype` naming an OpenDocument type, malformed XML) or TooLarge
    (past a bound on the whole file, packages.Budget: a bomb)."""
    package = read_package(data)
    if not package.members.get("mimetype", b"").startswith(b"application/vnd.oasis.opendocument"):
        raise Unreadable("not an OpenDocument package")
    dropped = set()
    for name in list(package.members):
        if name.startswith("Thumbnails/"):
            package.drop(name, kinds.THUMBNAIL)
            dropped.add(name)
        elif name == "settings.xml" or name.endswith("/settings.xml"):
            package.drop(name, kinds.PRINTER)
            dropped.add(name)
    for name in [n for n in package.members if _is_meta(n)]:
        _empty_meta(package, name)
    for name in list(package.members):
        if name.lower().endswith(".xml") and not _is_meta(name) and name != "META-INF/manifest.xml":
            _clean_content(package, name)
    strip_embedded_pictures(package)
    # An object from Office ("Object 2") is kept as its OLE compound file, in any folder.
    empty_ole_objects(package, [n for n, d in package.members.items() if d.startswith(OLE_MAGIC)])
    _drop_from_manifest(package, dropped)
    return write_package(package), package.found
