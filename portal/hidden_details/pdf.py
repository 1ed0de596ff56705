"""PDF, with pikepdf (qpdf): the document information, the XMP of the document and of every
object, application data (/PieceInfo), the names on annotations (comments, each entry of a
page's /Annots), page thumbnails, EXIF inside embedded JPEG pictures (a filter array too);
saved whole and fresh, so earlier saved versions (incremental updates) are gone and the
identifier (/ID) is new."""

from __future__ import annotations

import io

import pikepdf

from . import kinds
from .images import strip_jpeg
from .packages import Unreadable


def _info_kinds(info: pikepdf.Dictionary) -> set[str]:
    found = set()
    for key in info.keys():
        if key == "/Author":
            found.add(kinds.AUTHOR)
        elif key in ("/Creator", "/Producer"):
            found.add(kinds.SOFTWARE)
        elif key in ("/CreationDate", "/ModDate"):
            found.add(kinds.DATES)
        else:
            found.add(kinds.PROPERTIES)
    return found


def _clean_object(obj, found: set[str]) -> None:
    if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
        return
    for key, kind in (
        ("/Metadata", kinds.XMP),
        ("/PieceInfo", kinds.SOFTWARE),
        ("/LastModified", kinds.DATES),
    ):
        if key in obj:
            del obj[key]
            found.add(kind)
    if obj.get("/Type") == "/Annot" or "/Subtype" in obj and "/Popup" in obj:
        for key in ("/T", "/M", "/CreationDate"):
            if key in obj:
                del obj[key]
                found.add(kinds.COMMENT_AUTHORS)
    if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image" and _ends_in_jpeg(obj):
        # A filter array ([/FlateDecode /DCTDecode], as some writers make) wraps the same JPEG:
        # undo the general filters, keep the JPEG's own coding.
        cleaned, removed = strip_jpeg(_jpeg_bytes(obj))
        if removed:
            obj.write(cleaned, filter=pikepdf.Name.DCTDecode)
            if "/DecodeParms" in obj:
                del obj["/DecodeParms"]
            found.add(kinds.IMAGE_DETAILS)


def _jpeg_bytes(stream) -> bytes:
    """The JPEG inside `stream`: its raw bytes with the filters before /DCTDecode undone."""
    filters = stream.get("/Filter")
    if not isinstance(filters, pikepdf.Array) or len(filters) == 1:
        return stream.read_raw_bytes()
    raw, parms = stream.read_raw_bytes(), stream.get("/DecodeParms")
    stream.Filter = pikepdf.Array(list(filters)[:-1])
    if isinstance(parms, pikepdf.Array):
        stream.DecodeParms = pikepdf.Array(list(parms)[:-1])
    try:
        return stream.read_bytes()
    finally:
        # As it was, in case nothing is removed (a cleaned JPEG is written over it).
        stream.write(raw, filter=filters, decode_parms=parms)


def _ends_in_jpeg(stream) -> bool:
    """True when the stream's last filter is /DCTDecode, given as a name or as an array."""
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array):
        return len(filters) > 0 and filters[len(filters) - 1] == "/DCTDecode"
    return filters == "/DCTDecode"


def _clean_pages(document: pikepdf.Pdf, found: set[str]) -> None:
    """Every entry of a page's /Annots is an annotation, with or without the optional /Type:
    its author (/T) and dates go; a page's thumbnail (/Thumb) goes too."""
    for page in document.pages:
        if "/Thumb" in page.obj:
            del page.obj["/Thumb"]
            found.add(kinds.THUMBNAIL)
        annotations = page.obj.get("/Annots")
        if not isinstance(annotations, pikepdf.Array):
            continue
        for annotation in annotations:
            if not isinstance(annotation, pikepdf.Dictionary):
                continue
            for key in ("/T", "/M", "/CreationDate"):
                if key in annotation:
                    del annotation[key]
                    found.add(kinds.COMMENT_AUTHORS)


def clean_pdf(data: bytes) -> tuple[bytes, set[str]]:
    """Raises Unreadable for a file qpdf cannot open (or an encrypted one)."""
    try:
        document = pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, pikepdf.PasswordError, ValueError) as exc:
        raise Unreadable("not a readable PDF") from exc
    found: set[str] = set()
    with document:
        if document.is_encrypted:
            raise Unreadable("encrypted PDF")
        if "/Info" in document.trailer:
            found |= _info_kinds(document.trailer.Info)
            del document.trailer["/Info"]
        if "/ID" in document.trailer:
            found.add(kinds.DOCUMENT_ID)
            # qpdf keeps an existing first half, the permanent one that links copies of a file;
            # without it both halves are made from the content.
            del document.trailer["/ID"]
        if data.count(b"%%EOF") > 1:  # each incremental update ends with one
            found.add(kinds.EARLIER_VERSIONS)
        _clean_object(document.Root, found)
        for obj in document.objects:
            _clean_object(obj, found)
        _clean_pages(document, found)
        out = io.BytesIO()
        try:
            # A fresh file: no earlier versions; its /ID from its content, not from a time.
            document.save(out, deterministic_id=True, fix_metadata_version=False)
        except pikepdf.PdfError as exc:
            raise Unreadable("PDF could not be written again") from exc
    return out.getvalue(), found
