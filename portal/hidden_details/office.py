"""Office Open XML (docx, xlsx, pptx) in the manner of mat2 (libmat2/office.py), but keeping
comments and tracked changes themselves: document properties emptied; the parts that only carry
details (custom properties, thumbnails, printer settings, people lists, SharePoint customXml)
dropped with the relationships and content types naming them; in every XML part the names and
dates on comments and tracked changes blanked, revision ids (w:rsid*) removed, the attached
template, document variables and absolute paths removed; EXIF in embedded pictures removed. Also
(issue 26 review): external links to local files (file: or UNC targets) pointed at nowhere, picture
descriptions and names that are file names or paths blanked, Word's paragraph, text, comment and
document ids (w14/w15/w16cid) renumbered or removed, embedded Office packages (a chart's .xlsx)
cleaned the same way, or removed when they cannot be, and embedded OLE objects (oleObject1.bin,
an old .doc or .xls) emptied. And (issue 26 review, M2): a pivot cache's refreshedBy blanked, data
connections' local paths and user ids removed, links to other workbooks reduced to the file's
name, and relative external targets treated as local."""

from __future__ import annotations

import posixpath
import re

from . import kinds
from .images import strip_embedded_pictures
from .ole import empty_ole_objects
from .packages import (
    Budget,
    Package,
    TooLarge,
    Unreadable,
    local,
    read_package,
    write_package,
    xml_bytes,
)

_DROPPED = (
    (re.compile(r"^docProps/custom\.xml$"), kinds.PROPERTIES),
    (re.compile(r"^docProps/thumbnail\.[A-Za-z]+$"), kinds.THUMBNAIL),
    (re.compile(r"^customXml/"), kinds.LINKED_DATA),
    (re.compile(r"^(?:word|ppt|xl)/printerSettings/"), kinds.PRINTER),
    (re.compile(r"^(?:word|ppt|xl)/people\.xml$"), kinds.PEOPLE),
    (re.compile(r"^(?:word|ppt|xl)/persons/person\.xml$"), kinds.PEOPLE),
)
_CORE_KINDS = {
    "creator": kinds.AUTHOR,
    "lastModifiedBy": kinds.AUTHOR,
    "created": kinds.DATES,
    "modified": kinds.DATES,
    "lastPrinted": kinds.DATES,
    "revision": kinds.EDIT_HISTORY,
}
_APP_KINDS = {
    "Company": kinds.COMPANY,
    "Manager": kinds.AUTHOR,
    "Template": kinds.PATHS,
    "TotalTime": kinds.EDIT_HISTORY,
    "Application": kinds.SOFTWARE,
    "AppVersion": kinds.SOFTWARE,
    "HyperlinkBase": kinds.PATHS,
}
# Attributes naming a person, on comments, tracked changes and their authors' lists.
_NAME_ATTRIBUTES = {"author", "initials", "userId", "providerId", "displayName", "userName"}
_DATE_ATTRIBUTES = {"date", "dateUtc", "dt"}
_REMOVED_ELEMENTS = {
    "rsids": kinds.EDIT_HISTORY,
    "attachedTemplate": kinds.PATHS,
    "docVars": kinds.PROPERTIES,
    "absPath": kinds.PATHS,
    # xxl21:alternateUrls on a link to another workbook: its OneDrive URLs, drive and item ids.
    "alternateUrls": kinds.PATHS,
}
# Spreadsheet details (issue 26 review, M2): who last refreshed a pivot cache, and when; a data
# connection's .odc or source file on the author's machine; its connection string's user id.
_REFRESHED_BY = "refreshedBy"
_REFRESHED_DATES = {"refreshedDate", "refreshedDateIso"}
_CONNECTION_FILES = {"odcFile", "sourceFile"}
_CONNECTION_STRING_TAGS = {"dbPr", "olapPr"}
_CREDENTIAL_KEYS = {"uid", "user id", "user", "username", "user name", "pwd", "password"}
# Word 2010+ ids: the same random value in a paragraph, its comment's thread and the author's
# other saves links documents; renumbered in order, so the links inside one file still hold.
_RENUMBERED_IDS = {"paraId", "textId", "paraIdParent", "durableId"}
_W_MAIN = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCUMENT_ID_ELEMENTS = {"docId"}  # w14:docId, w15:docId in settings.xml
# A picture's descr/name/title filled in by Office with the file it came from.
_PICTURE_TAGS = {"docPr", "cNvPr"}
_FILE_NAME = re.compile(r"(?i)([\\/]|^[a-z]:|\.(?:jpe?g|png|gif|bmp|tiff?|heic|emf|wmf|svg|webp)$)")
_LOCAL_TARGET = re.compile(r"(?i)^(?:file:|\\\\|[a-z]:[\\/]|/|\.\.?[\\/])")
# A URL with a scheme of two letters or more (https:, mailto:), file: aside; anything else a
# relationship targets outside the package is a path: absolute, a drive, UNC or relative.
_WEB_TARGET = re.compile(r"(?i)^(?!file:)[a-z][a-z0-9+.-]+:")
_OTHER_WORKBOOK_LINKS = "xl/externalLinks/_rels/"
_EMBEDDED_PACKAGE = re.compile(r"(?i)/embeddings/[^/]+\.(?:xlsx|xlsm|docx|docm|pptx|pptm)$")
_MAX_NESTING = 2
# Any part in an embeddings folder: OLE objects among them are emptied (ole.py).
_EMBEDDED_PART = re.compile(r"(?i)/embeddings/[^/]+$")
_COMMENT_PARTS = re.compile(r"(?i)(comment|authors|persons|people|revision|threaded)")


def _empty_properties(
    package: Package, name: str, named: dict[str, str], other: str | None
) -> None:
    root = package.parse(name)
    for child in list(root):
        kind = named.get(local(child.tag), other)
        if kind and ((child.text or "").strip() or len(child)):
            package.found.add(kind)
        root.remove(child)
    package.members[name] = xml_bytes(root)


def _clean_part(package: Package, name: str, renumbered: dict[str, str]) -> None:
    root = package.parse(name)
    about_people = bool(_COMMENT_PARTS.search(name))
    changed = False
    named: set[str] = set()  # "Name:" for each author blanked: Excel starts a note's text with it
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        tag = local(element.tag)
        if tag in _REMOVED_ELEMENTS and element.getparent() is not None:
            package.found.add(_REMOVED_ELEMENTS[tag])
            element.getparent().remove(element)
            changed = True
            continue
        if tag in _DOCUMENT_ID_ELEMENTS and element.getparent() is not None and (
            not element.tag.startswith("{" + _W_MAIN)
        ):
            package.found.add(kinds.DOCUMENT_ID)
            element.getparent().remove(element)
            changed = True
            continue
        changed |= _clean_ids_and_pictures(package, element, tag, renumbered)
        changed |= _clean_spreadsheet_details(package, element, tag)
        revision = tag in {
            "ins",
            "del",
            "moveFrom",
            "moveTo",
            "rPrChange",
            "pPrChange",
            "sectPrChange",
            "tblPrChange",
            "trPrChange",
            "tcPrChange",
            "numberingChange",
            "cellIns",
            "cellDel",
            "cellMerge",
        }
        kind = kinds.TRACKED_CHANGES if revision else kinds.COMMENT_AUTHORS
        for attribute in list(element.attrib):
            short = local(attribute)
            if short.startswith("rsid"):
                del element.attrib[attribute]
                package.found.add(kinds.EDIT_HISTORY)
                changed = True
            elif (short in _NAME_ATTRIBUTES or about_people and short == "name") and (
                element.attrib[attribute]
            ):
                element.attrib[attribute] = ""  # required by the schema: blanked, not removed
                package.found.add(kind)
                changed = True
            elif short in _DATE_ATTRIBUTES and (revision or about_people):
                del element.attrib[attribute]
                package.found.add(kind)
                changed = True
        if tag in {"author", "name"} and about_people and element.text and not len(element):
            named.add(element.text.strip() + ":")
            element.text = ""  # xl/commentsN.xml <authors><author>NAME</author>
            package.found.add(kinds.COMMENT_AUTHORS)
            changed = True
        elif tag == "t" and about_people and element.text and element.text.strip() in named:
            element.text = ""  # <comment><text><r><t>NAME:</t></r>... (the authors come first)
            package.found.add(kinds.COMMENT_AUTHORS)
            changed = True
    if changed:
        package.members[name] = xml_bytes(root)


def _clean_ids_and_pictures(
    package: Package, element, tag: str, renumbered: dict[str, str]
) -> bool:
    changed = False
    for attribute, value in list(element.attrib.items()):
        short = local(attribute)
        if short in _RENUMBERED_IDS and value:
            if value not in renumbered:
                renumbered[value] = f"{len(renumbered) + 1:08X}"
            element.attrib[attribute] = renumbered[value]
            package.found.add(kinds.DOCUMENT_ID)
            changed = True
        elif tag in _PICTURE_TAGS and short in {"descr", "name", "title"} and (
            _FILE_NAME.search(value.strip())
        ):
            element.attrib[attribute] = "" if short != "name" else "Picture"
            package.found.add(kinds.PATHS)
            changed = True
    return changed


def _clean_spreadsheet_details(package: Package, element, tag: str) -> bool:
    changed = False
    for attribute, value in list(element.attrib.items()):
        short = local(attribute)
        if short == _REFRESHED_BY and value:
            element.attrib[attribute] = ""  # required by the schema: blanked, not removed
            package.found.add(kinds.AUTHOR)
        elif short in _REFRESHED_DATES:
            del element.attrib[attribute]
            package.found.add(kinds.DATES)
        elif short in _CONNECTION_FILES and value and not _WEB_TARGET.match(value.strip()):
            del element.attrib[attribute]  # optional: a web address stays, as links do
            package.found.add(kinds.PATHS)
        elif short == "connection" and tag in _CONNECTION_STRING_TAGS:
            cleaned = _clean_connection_string(value)
            if cleaned == value:
                continue
            element.attrib[attribute] = cleaned
            package.found.add(kinds.AUTHOR)
        else:
            continue
        changed = True
    return changed


def _clean_connection_string(value: str) -> str:
    """An ODBC or OLE DB connection string ("DSN=Pay;UID=jane;Data Source=C:\\x.accdb") with the
    values of its user ids and passwords, and of any setting that is a local path, emptied; the
    rest (driver, data source name, server, database) kept, so the query can still be refreshed."""
    parts = value.split(";")
    for number, part in enumerate(parts):
        key, equals, setting = part.partition("=")
        setting = setting.strip().strip('"')
        if equals and setting and (
            key.strip().lower() in _CREDENTIAL_KEYS or _LOCAL_TARGET.search(setting)
        ):
            parts[number] = key + "="
    return ";".join(parts)


def _clean_external_target(package: Package, rels: str, relation) -> None:
    """A link to a file outside the package: a link to another workbook keeps only the file's
    name (Excel shows it and its cached values, and asks for the file on refresh), since its
    folders, local, relative or on OneDrive, name the author's account and organisation; any
    other link to a local path points at file:///. Web and mail links stay."""
    target = relation.get("Target", "").strip()
    if rels.startswith(_OTHER_WORKBOOK_LINKS):
        cleaned = re.split(r"[\\/]", re.split(r"[?#]", target)[0].rstrip("/\\"))[-1]
    elif target and not _WEB_TARGET.match(target):
        cleaned = "file:///"  # the path named the author's machine
    else:
        return
    if cleaned != target:
        relation.set("Target", cleaned)
        package.found.add(kinds.PATHS)


def _clean_embedded_packages(package: Package, depth: int) -> None:
    """A chart's workbook (or an embedded document) carries its own properties: cleaned as a
    package of its own; one that cannot be (unreadable, nested too deep) is removed, and the chart
    keeps the values it shows, cached in its own XML. What an embedded package reads and parses is
    charged to the outer file's budget, and past it the whole file is not checked (TooLarge)."""
    for name in [n for n in package.members if _EMBEDDED_PACKAGE.search("/" + n)]:
        try:
            if depth >= _MAX_NESTING:
                raise Unreadable("nested too deep")
            cleaned, found = _clean(package.members[name], depth + 1, package.budget)
        except TooLarge:
            raise
        except Unreadable:
            package.drop(name, kinds.OTHER)
            continue
        package.members[name] = cleaned
        if found:
            package.found |= found


def _drop_references(package: Package, dropped: set[str]) -> None:
    """Relationships and content types that name a part no longer in the package, and the
    relationship to an attached template (its target is a path on the author's machine)."""
    for name in [n for n in package.members if n.endswith(".rels")]:
        root = package.parse(name)
        base = posixpath.dirname(posixpath.dirname(name))
        for relation in list(root):
            target = relation.get("Target", "")
            if relation.get("Type", "").endswith("/attachedTemplate"):
                root.remove(relation)
                package.found.add(kinds.PATHS)
                continue
            if relation.get("TargetMode") == "External":
                _clean_external_target(package, name, relation)
                continue
            path = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(base, target))
            )
            if path in dropped:
                root.remove(relation)
        package.members[name] = xml_bytes(root)
    types = "[Content_Types].xml"
    if types in package.members:
        root = package.parse(types)
        for entry in list(root):
            if entry.get("PartName", "").lstrip("/") in dropped:
                root.remove(entry)
        package.members[types] = xml_bytes(root)


def clean_office(data: bytes) -> tuple[bytes, set[str]]:
    """Raises Unreadable (not a package with [Content_Types].xml, malformed XML) or TooLarge
    (past a bound on the whole file, packages.Budget: a bomb)."""
    return _clean(data, 0, None)


def _clean(data: bytes, depth: int, budget: Budget | None) -> tuple[bytes, set[str]]:
    package = read_package(data, budget)
    if "[Content_Types].xml" not in package.members:
        raise Unreadable("not an Office Open XML package")
    dropped = set()
    for name in list(package.members):
        for pattern, kind in _DROPPED:
            if pattern.search(name):
                package.drop(name, kind)
                dropped.add(name)
    if "docProps/core.xml" in package.members:
        _empty_properties(package, "docProps/core.xml", _CORE_KINDS, kinds.PROPERTIES)
    if "docProps/app.xml" in package.members:
        _empty_properties(package, "docProps/app.xml", _APP_KINDS, None)
    renumbered: dict[str, str] = {}
    for name in list(package.members):
        if (
            name.lower().endswith(".xml")
            and not name.startswith("docProps/")
            and name != ("[Content_Types].xml")
        ):
            _clean_part(package, name, renumbered)
    strip_embedded_pictures(package)
    _clean_embedded_packages(package, depth)
    empty_ole_objects(package, [n for n in package.members if _EMBEDDED_PART.search("/" + n)])
    _drop_references(package, dropped)
    return write_package(package), package.found
