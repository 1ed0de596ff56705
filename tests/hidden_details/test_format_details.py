"""Details the first cleaning of Office and OpenDocument files left in (issue 26, the attacker
review): local paths in external links, picture file names, Word's document and paragraph ids, an
embedded workbook's own properties, LibreOffice's revision ids and embedded objects' meta.xml.
Each file is made here, checked through the sandboxed child, and must still open: a readable zip
whose main part is well-formed XML holding the document's text."""
from __future__ import annotations

import io
import zipfile

from lxml import etree

from portal.hidden_details import kinds, sandbox
import tests.support.hidden_files as made

W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
PARA_ID = "3F2A9C11"


def _with_members(package: bytes, replaced: dict[str, bytes | str]) -> bytes:
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


def _opens(data: bytes, main: str) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    etree.fromstring(archive.read(main))
    for name in archive.namelist():
        if name.endswith((".xml", ".rels")):
            etree.fromstring(archive.read(name))  # every XML part still well-formed
    return archive


def _docx_with_review_findings() -> bytes:
    person = made.PERSON
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{made.W}"'
        f' xmlns:w14="{W14}" xmlns:r="{R}" xmlns:wp="{WP}"><w:body>'
        f'<w:p w14:paraId="{PARA_ID}" w14:textId="77AB01CD"><w:r><w:t>{made.TEXT}</w:t></w:r>'
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
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings xmlns:w="{made.W}"'
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
    return _with_members(made.docx(), {
        "word/document.xml": document, "word/commentsExtended.xml": comments_ex,
        "word/settings.xml": settings, "word/_rels/document.xml.rels": rels,
        "word/embeddings/Microsoft_Excel_Worksheet.xlsx": made.xlsx(),
    })


def test_a_docx_loses_local_link_paths_picture_file_names_word_ids_and_its_workbooks_details():
    sent = _docx_with_review_findings()
    assert made.PERSON.encode() in made.zip_texts(sent) and b"1A2B3C4D" in made.zip_texts(sent)
    checked = sandbox.check(sent)
    assert checked.checked, checked.reason
    archive = _opens(checked.cleaned, "word/document.xml")
    everything = made.zip_texts(checked.cleaned)
    assert made.PERSON.encode() not in everything and made.COMPANY.encode() not in everything
    assert b"1A2B3C4D" not in everything and b"5E6F7A8B" not in everything
    assert PARA_ID.encode() not in everything and b"77AB01CD" not in everything
    document = archive.read("word/document.xml")
    assert made.TEXT in made.xml_text(document, "t")
    assert b"A chart of payments by month" in document  # alt text a person wrote stays
    # The comment's thread still finds its paragraph: both ids renumbered alike.
    paragraph = etree.fromstring(document).find(f".//{{{made.W}}}p")
    thread = etree.fromstring(archive.read("word/commentsExtended.xml"))[0]
    assert paragraph.get(f"{{{W14}}}paraId") == thread.get(f"{{{W15}}}paraId")
    links = archive.read("word/_rels/document.xml.rels")
    assert b"https://example.org/report" in links and b"fileserver" not in links
    # The chart's workbook is cleaned as a package of its own, and still opens.
    inner = archive.read("word/embeddings/Microsoft_Excel_Worksheet.xlsx")
    _opens(inner, "xl/workbook.xml")
    assert made.TEXT.encode() in made.zip_texts(inner)
    assert made.PERSON.encode() not in made.zip_texts(inner)
    assert made.COMPANY.encode() not in made.zip_texts(inner)
    assert {kinds.PATHS, kinds.DOCUMENT_ID, kinds.AUTHOR, kinds.COMPANY} <= set(checked.kinds)


def test_an_embedded_package_that_cannot_be_read_is_removed_and_said():
    sent = _with_members(made.docx(), {"word/embeddings/Workbook1.xlsx": b"PK\x03\x04 broken"})
    checked = sandbox.check(sent)
    assert checked.checked, checked.reason
    archive = _opens(checked.cleaned, "word/document.xml")
    assert "word/embeddings/Workbook1.xlsx" not in archive.namelist()
    assert kinds.OTHER in checked.kinds


def test_an_odt_loses_libreoffice_revision_ids_and_its_embedded_objects_meta():
    person = made.PERSON
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
        f'<text:p text:style-name="P1">{made.TEXT}</text:p></office:text></office:body>'
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
    manifest = made.zip_texts(made.odt()).split(b"\n")[1]  # the second member: the manifest
    assert b"manifest:manifest" in manifest
    manifest = manifest.replace(b"</manifest:manifest>", (
        b'<manifest:file-entry manifest:full-path="Object 1/" manifest:media-type='
        b'"application/vnd.oasis.opendocument.chart"/>'
        b'<manifest:file-entry manifest:full-path="Object 1/meta.xml" manifest:media-type="text/xml"/>'
        b'<manifest:file-entry manifest:full-path="Object 1/settings.xml" manifest:media-type="text/xml"/>'
        b"</manifest:manifest>"))
    sent = _with_members(made.odt(), {
        "content.xml": content, "META-INF/manifest.xml": manifest,
        "Object 1/meta.xml": object_meta, "Object 1/settings.xml": object_settings,
    })
    checked = sandbox.check(sent)
    assert checked.checked, checked.reason
    archive = _opens(checked.cleaned, "content.xml")
    everything = made.zip_texts(checked.cleaned)
    assert made.PERSON.encode() not in everything and b"rsid" not in everything.lower()
    assert b"LibreOffice" not in everything and b"1193012" not in everything
    assert made.TEXT in made.xml_text(archive.read("content.xml"), "p")
    assert "Object 1/meta.xml" in archive.namelist()
    assert "Object 1/settings.xml" not in archive.namelist()
    assert b"Object 1/settings.xml" not in archive.read("META-INF/manifest.xml")
    assert archive.namelist()[0] == "mimetype"
    assert kinds.EDIT_HISTORY in checked.kinds and kinds.AUTHOR in checked.kinds


def _elements(count: int, tag: str = "w:document") -> bytes:
    """An XML part of `count` elements: the root and count - 1 empty paragraphs."""
    return (f'<{tag} xmlns:w="{made.W}">'.encode() + b"<w:p/>" * (count - 1) + f"</{tag}>".encode())


def test_the_element_bound_holds_for_the_whole_file_its_parts_and_embedded_packages_together():
    """Issue 22: each part under the old per-part bound of a million, the file past two million in
    all: a document of a million elements and a chart's workbook holding another million."""
    workbook = _with_members(made.xlsx(), {"xl/worksheets/sheet1.xml": _elements(1_000_001, "w:worksheet")})
    sent = _with_members(made.docx(), {"word/document.xml": _elements(1_000_000),
                                       "word/embeddings/Microsoft_Excel_Worksheet1.xlsx": workbook})
    assert len(sent) < 50_000  # a small upload
    checked = sandbox.check(sent)
    assert not checked.checked and checked.reason == "size"
    # The same document with a workbook of ordinary size is checked as before.
    within = _with_members(sent, {"word/embeddings/Microsoft_Excel_Worksheet1.xlsx": made.xlsx()})
    assert sandbox.check(within).checked
