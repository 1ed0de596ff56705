"""Real files with hidden details, made in the test (issue 26): a DOCX, an XLSX and an ODT with an
author and tracked changes, a JPEG with GPS EXIF, a PDF with an author. The identifying value is
PERSON, the company COMPANY; neither appears in a document's text, which is TEXT."""
from __future__ import annotations

import io
import re
import zipfile

PERSON = "Jane-Authorson-4e1c"
PDF_ID = b"\xab" * 16
INITIALS = "JQXA"  # as LibreOffice writes a comment's author's initials (meta:creator-initials)
COMPANY = "Secret-Agency-Ltd-93b"
TEXT = "The invoices were paid twice to the same account."

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
PARA_ID = "3F2A9C11"
CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<dc:creator>{PERSON}</dc:creator><cp:lastModifiedBy>{PERSON}</cp:lastModifiedBy>'
        '<cp:revision>7</cp:revision>'
        '<dcterms:created xsi:type="dcterms:W3CDTF">2025-03-01T09:12:00Z</dcterms:created>'
        '</cp:coreProperties>')
APP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
       f'<Template>C:\\Users\\{PERSON}\\Normal.dotm</Template><TotalTime>93</TotalTime>'
       f'<Company>{COMPANY}</Company><Application>Microsoft Office Word</Application></Properties>')
CUSTOM = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
          ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
          f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="Owner">'
          f'<vt:lpwstr>{PERSON}</vt:lpwstr></property></Properties>')


def _zip(members: list[tuple[str, bytes | str]], stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(members):
            kind = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=kind)
    return out.getvalue()


def _content_types(overrides: dict[str, str], defaults=("rels", "xml", "jpeg")) -> str:
    kinds = {"rels": "application/vnd.openxmlformats-package.relationships+xml",
             "xml": "application/xml", "jpeg": "image/jpeg"}
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            + "".join(f'<Default Extension="{d}" ContentType="{kinds[d]}"/>' for d in defaults)
            + "".join(f'<Override PartName="/{p}" ContentType="{t}"/>' for p, t in overrides.items())
            + "</Types>")


def _rels(relations: list[tuple[str, str]]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/{kind}"'
                      f' Target="{target}"/>' for i, (kind, target) in enumerate(relations, 1))
            + "</Relationships>")


def _photo_exif():
    """A phone photo's EXIF: camera, a model naming PERSON, Artist PERSON, a GPS position."""
    from PIL import Image
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0110] = "Model-" + PERSON
    exif[0x013B] = PERSON  # Artist
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (41.0, 17.0, 12.5), "E", (174.0, 46.0, 40.0)
    return exif


def jpeg_with_gps(size=(64, 48)) -> bytes:
    from PIL import Image
    picture = Image.new("RGB", size, (30, 120, 200))
    exif = _photo_exif()
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def heic_with_gps(size=(96, 64)) -> bytes:
    """A HEIC photo (pillow-heif) with EXIF (camera, Artist, GPS), an XMP block naming PERSON and
    an embedded thumbnail; the picture is a gradient, so a re-encoding that moved it would show."""
    import pillow_heif
    from PIL import Image
    gradient = Image.linear_gradient("L").resize(size)
    picture = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_180),
                                  Image.new("L", size, 90)))
    exif = _photo_exif()
    photo = pillow_heif.from_pillow(picture)
    photo[0].info["exif"] = exif.tobytes()
    photo[0].info["xmp"] = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{PERSON}</x:xmpmeta>'.encode()
    photo[0].info["thumbnails"] = [32]
    out = io.BytesIO()
    photo.save(out, quality=90)
    return out.getvalue()


def docx() -> bytes:
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"><w:body>'
        f'<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00D4E5F6"><w:r w:rsidRPr="00112233"><w:t>{TEXT}</w:t></w:r>'
        f'<w:ins w:id="1" w:author="{PERSON}" w:date="2025-03-02T10:00:00Z"><w:r><w:t> Added later.</w:t></w:r></w:ins>'
        f'<w:del w:id="2" w:author="{PERSON}" w:date="2025-03-02T10:01:00Z"><w:r><w:delText> Removed.</w:delText></w:r></w:del>'
        '<w:commentRangeStart w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p></w:body></w:document>')
    comments = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments xmlns:w="{W}">'
                f'<w:comment w:id="0" w:author="{PERSON}" w:initials="JA" w:date="2025-03-02T11:00:00Z">'
                '<w:p><w:r><w:t>Check this.</w:t></w:r></w:p></w:comment></w:comments>')
    settings = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings xmlns:w="{W}">'
                f'<w:attachedTemplate r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
                '<w:rsids><w:rsidRoot w:val="00A1B2C3"/><w:rsid w:val="00D4E5F6"/></w:rsids></w:settings>')
    people = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
              f'<w15:person w15:author="{PERSON}"><w15:presenceInfo w15:providerId="AD"'
              f' w15:userId="{PERSON}@agency.example"/></w15:person></w15:people>')
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return _zip([
        ("[Content_Types].xml", _content_types({
            "word/document.xml": main, "docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
            "docProps/custom.xml": "application/vnd.openxmlformats-officedocument.custom-properties+xml",
            "word/people.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.people+xml"})),
        ("_rels/.rels", _rels([("officeDocument/2006/relationships/officeDocument", "word/document.xml"),
                               ("package/2006/relationships/metadata/core-properties", "docProps/core.xml"),
                               ("officeDocument/2006/relationships/custom-properties", "docProps/custom.xml")])),
        ("word/_rels/document.xml.rels", _rels([
            ("officeDocument/2006/relationships/comments", "comments.xml"),
            ("officeDocument/2006/relationships/settings", "settings.xml"),
            ("officeDocument/2011/relationships/people", "people.xml"),
            ("officeDocument/2006/relationships/image", "media/image1.jpeg"),
            ("officeDocument/2006/relationships/customXml", "../customXml/item1.xml")])),
        ("word/_rels/settings.xml.rels", _rels([]).replace("</Relationships>",
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'attachedTemplate" Target="file:///C:/Users/{PERSON}/AppData/Templates/Normal.dotm"'
            ' TargetMode="External"/></Relationships>')),
        ("word/document.xml", document), ("word/comments.xml", comments), ("word/settings.xml", settings),
        ("word/people.xml", people), ("word/media/image1.jpeg", jpeg_with_gps()),
        ("customXml/item1.xml", f"<root><owner>{PERSON}</owner></root>"),
        ("docProps/core.xml", CORE), ("docProps/app.xml", APP), ("docProps/custom.xml", CUSTOM),
    ])


def xlsx() -> bytes:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{main}"'
                ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
                ' xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac">'
                '<mc:AlternateContent><mc:Choice Requires="x15">'
                f'<x15ac:absPath url="C:\\Users\\{PERSON}\\Documents\\"/></mc:Choice></mc:AlternateContent>'
                '<sheets><sheet name="Payments" sheetId="1"/></sheets></workbook>')
    sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{main}"><sheetData>'
             f'<row r="1"><c r="A1" t="inlineStr"><is><t>{TEXT}</t></is></c></row></sheetData></worksheet>')
    comments = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><comments xmlns="{main}">'
                f'<authors><author>{PERSON}</author></authors><commentList><comment ref="A1" authorId="0">'
                f'<text><r><rPr><b/></rPr><t>{PERSON}:</t></r><r><t xml:space="preserve">\nTwice?</t></r></text>'
                '</comment></commentList></comments>')
    revisions = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><headers xmlns="{main}">'
                 f'<header guid="{{00000000-0000-0000-0000-000000000001}}" dateTime="2025-03-02T10:00:00"'
                 f' userName="{PERSON}"/></headers>')
    return _zip([
        ("[Content_Types].xml", _content_types({})),
        ("_rels/.rels", _rels([("officeDocument/2006/relationships/officeDocument", "xl/workbook.xml"),
                               ("package/2006/relationships/metadata/core-properties", "docProps/core.xml")])),
        ("xl/workbook.xml", workbook), ("xl/worksheets/sheet1.xml", sheet), ("xl/comments1.xml", comments),
        ("xl/revisions/revisionHeaders.xml", revisions),
        ("xl/printerSettings/printerSettings1.bin", f"printer of {PERSON}".encode()),
        ("docProps/core.xml", CORE), ("docProps/app.xml", APP),
    ])


def odt() -> bytes:
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
          ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
          ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
          ' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.3">'
               '<office:body><office:text><text:tracked-changes><text:changed-region text:id="ct1">'
               f'<text:insertion><office:change-info><dc:creator>{PERSON}</dc:creator>'
               '<dc:date>2025-03-02T10:00:00</dc:date></office:change-info></text:insertion>'
               '</text:changed-region></text:tracked-changes>'
               f'<text:p>{TEXT}<text:change-start text:change-id="ct1"/> Added later.<text:change-end text:change-id="ct1"/></text:p>'
               f'<text:p><office:annotation><dc:creator>{PERSON}</dc:creator><dc:date>2025-03-02T11:00:00</dc:date>'
               f'<meta:creator-initials>{INITIALS}</meta:creator-initials>'
               '<text:p>Check this.</text:p></office:annotation></text:p>'
               '</office:text></office:body></office:document-content>')
    meta = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {ns} office:version="1.3"><office:meta>'
            f'<meta:initial-creator>{PERSON}</meta:initial-creator><dc:creator>{PERSON}</dc:creator>'
            '<meta:editing-cycles>12</meta:editing-cycles><meta:editing-duration>PT2H</meta:editing-duration>'
            f'<meta:user-defined meta:name="Company">{COMPANY}</meta:user-defined>'
            '<meta:generator>LibreOffice/7.6</meta:generator></office:meta></office:document-meta>')
    settings = ('<?xml version="1.0" encoding="UTF-8"?><office:document-settings '
                'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"><office:settings>'
                f'<config:config-item config:name="PrinterName" config:type="string">{PERSON} printer</config:config-item>'
                '</office:settings></office:document-settings>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                + "".join(f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="{t}"/>' for p, t in (
                    ("/", "application/vnd.oasis.opendocument.text"), ("content.xml", "text/xml"),
                    ("meta.xml", "text/xml"), ("settings.xml", "text/xml"),
                    ("Thumbnails/thumbnail.jpg", "image/jpeg")))
                + "</manifest:manifest>")
    return _zip([
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("META-INF/manifest.xml", manifest), ("content.xml", content), ("meta.xml", meta),
        ("settings.xml", settings), ("Thumbnails/thumbnail.jpg", jpeg_with_gps((16, 16))),
    ], stored_first=True)


def pdf() -> bytes:
    import pikepdf
    document = pikepdf.new()
    document.add_blank_page()
    page = document.pages[0]
    page.obj.Contents = document.make_stream(f"BT /F1 12 Tf 72 720 Td ({TEXT}) Tj ET".encode())
    document.docinfo["/Author"] = PERSON
    document.docinfo["/Creator"] = COMPANY
    # A permanent identifier, as a writer keeps it across every save (ISO 32000-1, 14.4).
    document.trailer.ID = pikepdf.Array([pikepdf.String(PDF_ID), pikepdf.String(PDF_ID)])
    with document.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = [PERSON]
    out = io.BytesIO()
    document.save(out)
    first = out.getvalue()
    # An incremental update, as an editor appends one: the earlier version stays inside the file,
    # here with the author's earlier name in its document information.
    size = int(document.trailer.Size)
    root = document.Root.objgen[0]
    previous = int(re.findall(rb"startxref\s+(\d+)", first)[-1])
    added = f"\n{size} 0 obj\n<< /Author ({PERSON}-v2) >>\nendobj\n".encode()
    xref_at = len(first) + len(added)
    tail = (f"xref\n{size} 1\n{len(first) + 1:010d} 00000 n \ntrailer\n<< /Size {size + 1}"
            f" /Root {root} 0 R /Info {size} 0 R /Prev {previous} /ID [<{PDF_ID.hex()}> <{PDF_ID.hex()}>] >>"
            f"\nstartxref\n{xref_at}\n%%EOF\n")
    return first + added + tail.encode()


def zip_texts(data: bytes) -> bytes:
    """Every member of a zip, decompressed and joined: what a search of the file's contents sees."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"\n".join(archive.read(info) for info in archive.infolist())


def xml_text(data: bytes, tag: str) -> str:
    """The text of every `tag` element (a local name) of an XML part, with its children's tails,
    in document order."""
    from lxml import etree
    root = etree.fromstring(data)
    pieces = []
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == tag:
            pieces.append(element.text or "")
            pieces.extend(child.tail or "" for child in element)
    return "|".join(pieces)


def with_members(package: bytes, replaced: dict[str, bytes | str]) -> bytes:
    """The package with some members replaced or added, the rest kept in order."""
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        names = [i.filename for i in source.infolist()]
        for name in names + [n for n in replaced if n not in names]:
            data = replaced.get(name, source.read(name) if name in names else b"")
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=kind)
    return out.getvalue()


def docx_with_review_findings() -> bytes:
    """A docx with what the attacker review found left in (issue 26): local link paths, picture file
    names, Word's w14/w15 ids and an embedded workbook with its own properties."""
    person = PERSON
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"'
        f' xmlns:w14="{W14}" xmlns:r="{R}" xmlns:wp="{WP}"><w:body>'
        f'<w:p w14:paraId="{PARA_ID}" w14:textId="77AB01CD"><w:r><w:t>{TEXT}</w:t></w:r>'
        '<w:hyperlink r:id="rId90"><w:r><w:t>the ledger</w:t></w:r></w:hyperlink>'
        '<w:hyperlink r:id="rId91"><w:r><w:t>the share</w:t></w:r></w:hyperlink>'
        '<w:hyperlink r:id="rId92"><w:r><w:t>the site</w:t></w:r></w:hyperlink>'
        f'<w:r><w:drawing><wp:inline><wp:docPr id="1" name="{person}-photo.jpg"'
        f' descr="C:\\Users\\{person}\\Pictures\\IMG_0042.JPG"/></wp:inline></w:drawing></w:r>'
        '<w:r><w:drawing><wp:inline><wp:docPr id="2" name="Picture 2"'
        ' descr="A chart of payments by month"/></wp:inline></w:drawing></w:r>'
        '</w:p></w:body></w:document>')
    comments_ex = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w15:commentsEx xmlns:w15="{W15}">'
        f'<w15:commentEx w15:paraId="{PARA_ID}" w15:done="0"/></w15:commentsEx>')
    settings = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings xmlns:w="{W}"'
        f' xmlns:w14="{W14}" xmlns:w15="{W15}"><w:zoom w:percent="100"/>'
        '<w14:docId w14:val="1A2B3C4D"/><w15:docId w15:val="{5E6F7A8B-1111-2222-3333-444455556666}"/>'
        '</w:settings>')
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/settings" Target="settings.xml"/>'
        '<Relationship Id="rId90" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/hyperlink" Target="file:///C:/Users/{person}/Documents/ledger.xlsx"'
        ' TargetMode="External"/>'
        '<Relationship Id="rId91" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/hyperlink" Target="\\\\fileserver\\home\\{person}\\notes.docx"'
        ' TargetMode="External"/>'
        '<Relationship Id="rId92" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/hyperlink" Target="https://example.org/report" TargetMode="External"/>'
        '</Relationships>')
    return with_members(docx(), {
        "word/document.xml": document, "word/commentsExtended.xml": comments_ex,
        "word/settings.xml": settings, "word/_rels/document.xml.rels": rels,
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": xlsx(),
    })


def odt_with_revision_ids() -> bytes:
    """An odt with LibreOffice's revision ids and an embedded object's own meta.xml and settings.xml."""
    person = PERSON
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
          ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
          ' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
          ' xmlns:officeooo="http://openoffice.org/2009/office"'
          ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
          ' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.3">'
        '<office:automatic-styles><style:style style:name="P1" style:family="paragraph">'
        '<style:text-properties officeooo:rsid="0012ab34" officeooo:paragraph-rsid="0012ab35"/>'
        f'</style:style></office:automatic-styles><office:body><office:text>'
        f'<text:p text:style-name="P1">{TEXT}</text:p></office:text></office:body>'
        '</office:document-content>')
    object_meta = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {ns} office:version="1.3">'
        f'<office:meta><dc:creator>{person}</dc:creator><meta:generator>LibreOffice/7.6'
        '</meta:generator></office:meta></office:document-meta>')
    object_settings = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-settings'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"><office:settings>'
        '<config:config-item config:name="Rsid" config:type="int">1193012</config:config-item>'
        '</office:settings></office:document-settings>')
    manifest = zip_texts(odt()).split(b"\n")[1]  # the second member: the manifest
    assert b"manifest:manifest" in manifest
    manifest = manifest.replace(b"</manifest:manifest>", (
        b'<manifest:file-entry manifest:full-path="Object 1/" manifest:media-type='
        b'"application/vnd.oasis.opendocument.chart"/>'
        b'<manifest:file-entry manifest:full-path="Object 1/meta.xml" manifest:media-type="text/xml"/>'
        b'<manifest:file-entry manifest:full-path="Object 1/settings.xml" manifest:media-type="text/xml"/>'
        b"</manifest:manifest>"))
    return with_members(odt(), {
        "content.xml": content, "META-INF/manifest.xml": manifest,
        "Object 1/meta.xml": object_meta, "Object 1/settings.xml": object_settings,
    })


_SHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XXL21 = "http://schemas.microsoft.com/office/spreadsheetml/2021/extlinks2021"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_LINK_PATH = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath"


def xlsx_with_pivot_connection_and_linked_book() -> bytes:
    """A workbook as Excel writes one with a pivot table, data connections and a link to a book
    in the author's OneDrive (issue 26 review, M2): the name in refreshedBy, the connection's .odc
    path, text source and user id, and the linked book's relative path and OneDrive address."""
    person, company = PERSON, COMPANY
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    pivot = (f'{head}<pivotCacheDefinition xmlns="{_SHEET}" refreshedBy="{person}"'
             ' refreshedDate="45000.5" createdVersion="8"><cacheSource type="worksheet">'
             '<worksheetSource ref="A1:A2" sheet="Payments"/></cacheSource></pivotCacheDefinition>')
    connections = (
        f'{head}<connections xmlns="{_SHEET}">'
        f'<connection id="1" name="q" odcFile="C:\\Users\\{person}\\Documents\\My Data Sources\\q.odc"'
        f' type="1"><dbPr connection="DSN=Pay;UID={person};DBQ=C:\\Users\\{person}\\pay.accdb;"'
        ' command="select 1"/></connection>'
        f'<connection id="2" name="t" type="6" sourceFile="..\\{person}\\rates.csv">'
        '<textPr prompt="0"/></connection>'
        '<connection id="3" name="w" type="4"><webPr url="https://example.org/rates"/></connection>'
        '</connections>')
    link = (f'{head}<externalLink xmlns="{_SHEET}" xmlns:r="{R}"><externalBook r:id="rId1">'
            f'<xxl21:alternateUrls xmlns:xxl21="{_XXL21}" driveId="b!{company}" itemId="01AB">'
            '<xxl21:absoluteUrl r:id="rId2"/></xxl21:alternateUrls><sheetNames>'
            '<sheetName val="Budget"/></sheetNames></externalBook></externalLink>')
    link_rels = (
        f'{head}<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_LINK_PATH}" TargetMode="External"'
        f' Target="../../Users/{person}/OneDrive%20-%20{company}/Budget.xlsx"/>'
        f'<Relationship Id="rId2" Type="{_LINK_PATH}" TargetMode="External"'
        f' Target="https://{company}-my.sharepoint.com/personal/{person}/Documents/Budget.xlsx"/>'
        '</Relationships>')
    return with_members(xlsx(), {
        "xl/pivotCache/pivotCacheDefinition1.xml": pivot,
        "xl/connections.xml": connections,
        "xl/externalLinks/externalLink1.xml": link,
        "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels,
    })
