"""Details the first cleaning of Office and OpenDocument files left in (issue 26, the attacker
review): local paths in external links, picture file names, Word's document and paragraph ids, an
embedded workbook's own properties, LibreOffice's revision ids and embedded objects' meta.xml.
Each file is made here, checked through the sandboxed child, and must still open: a readable zip
whose main part is well-formed XML holding the document's text."""
from __future__ import annotations

import io
import zipfile

import olefile
from lxml import etree

from portal.hidden_details import kinds, sandbox
from portal.hidden_details.ole import OLE_MAGIC
import tests.support.hidden_files as made
from tests.support.hidden_files import PARA_ID, W14, W15


def _opens(data: bytes, main: str) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    etree.fromstring(archive.read(main))
    for name in archive.namelist():
        if name.endswith((".xml", ".rels")):
            etree.fromstring(archive.read(name))  # every XML part still well-formed
    return archive


def test_a_docx_loses_local_link_paths_picture_file_names_word_ids_and_its_workbooks_details():
    sent = made.docx_with_review_findings()
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
    sent = made.with_members(made.docx(), {"word/embeddings/Workbook1.xlsx": b"PK\x03\x04 broken"})
    checked = sandbox.check(sent)
    assert checked.checked, checked.reason
    archive = _opens(checked.cleaned, "word/document.xml")
    assert "word/embeddings/Workbook1.xlsx" not in archive.namelist()
    assert kinds.OTHER in checked.kinds


def test_an_odt_loses_libreoffice_revision_ids_and_its_embedded_objects_meta():
    sent = made.odt_with_revision_ids()
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
    workbook = made.with_members(made.xlsx(), {"xl/worksheets/sheet1.xml": _elements(1_000_001, "w:worksheet")})
    sent = made.with_members(made.docx(), {"word/document.xml": _elements(1_000_000),
                                       "word/embeddings/Microsoft_Excel_Worksheet1.xlsx": workbook})
    assert len(sent) < 50_000  # a small upload
    checked = sandbox.check(sent)
    assert not checked.checked and checked.reason == "size"
    # The same document with a workbook of ordinary size is checked as before.
    within = made.with_members(sent, {"word/embeddings/Microsoft_Excel_Worksheet1.xlsx": made.xlsx()})
    assert sandbox.check(within).checked


def _old_document_inside() -> bytes:
    """What an embedded old .doc carries: its author and the path it was saved under."""
    return (OLE_MAGIC + bytes(504) + made.PERSON.encode("utf-16-le")
            + f"C:\\Users\\{made.PERSON}\\Desktop\\payments.doc".encode() + bytes(900))


def test_ole_objects_embedded_in_office_files_are_emptied_and_said():
    embedded = {
        "word/embeddings/oleObject1.bin": _old_document_inside(),
        "word/embeddings/Microsoft_Word_97_-_2003_Document.doc": _old_document_inside(),
        "word/embeddings/oleObject2.bin": f"packaged from C:\\{made.PERSON}\\x.pdf".encode(),
    }
    rels = "word/_rels/document.xml.rels"
    link = (b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/oleObject" Target="embeddings/oleObject1.bin"/></Relationships>')
    original_rels = zipfile.ZipFile(io.BytesIO(made.docx())).read(rels)
    sent = made.with_members(made.docx(), {**embedded, rels: original_rels.replace(b"</Relationships>", link)})
    workbook = made.with_members(made.xlsx(), {"xl/embeddings/oleObject1.bin": _old_document_inside()})
    text = made.with_members(made.odt(), {"Object 2": _old_document_inside()})
    for document, main in ((sent, "word/document.xml"), (workbook, "xl/workbook.xml"), (text, "content.xml")):
        checked = sandbox.check(document)
        assert checked.checked, checked.reason
        archive = _opens(checked.cleaned, main)
        assert made.PERSON.encode() not in made.zip_texts(checked.cleaned)
        assert made.PERSON.encode("utf-16-le") not in checked.cleaned
        members = [n for n in archive.namelist() if "/embeddings/" in n or n == "Object 2"]
        assert members == [n for n in zipfile.ZipFile(io.BytesIO(document)).namelist() if n in members]
        assert len(members) == (3 if document is sent else 1)
        for name in members:  # every part is still there, an empty OLE storage
            storage = olefile.OleFileIO(io.BytesIO(archive.read(name)), raise_defects=olefile.DEFECT_POTENTIAL)
            assert storage.listdir() == [] and storage.parsing_issues == []
        assert kinds.OTHER in checked.kinds
    cleaned = zipfile.ZipFile(io.BytesIO(sandbox.check(sent).cleaned))
    assert made.TEXT in made.xml_text(cleaned.read("word/document.xml"), "t")
    assert b'Target="embeddings/oleObject1.bin"' in cleaned.read(rels)  # the object's link holds


def test_an_xlsx_loses_pivot_refresher_connection_paths_and_user_ids_and_linked_book_folders():
    sent = made.xlsx_with_pivot_connection_and_linked_book()
    assert made.PERSON.encode() in made.zip_texts(sent) and made.COMPANY.encode() in made.zip_texts(sent)
    checked = sandbox.check(sent)
    assert checked.checked, checked.reason
    archive = _opens(checked.cleaned, "xl/workbook.xml")
    everything = made.zip_texts(checked.cleaned)
    assert made.PERSON.encode() not in everything and made.COMPANY.encode() not in everything
    assert made.TEXT.encode() in archive.read("xl/worksheets/sheet1.xml")
    pivot = etree.fromstring(archive.read("xl/pivotCache/pivotCacheDefinition1.xml"))
    assert pivot.get("refreshedBy") == "" and pivot.get("refreshedDate") is None
    connections = etree.fromstring(archive.read("xl/connections.xml"))
    first, text, web = connections
    assert first.get("odcFile") is None and text.get("sourceFile") is None
    assert first[0].get("connection") == "DSN=Pay;UID=;DBQ=;"  # the query can still be refreshed
    assert web[0].get("url") == "https://example.org/rates"  # a web address stays, as links do
    # The linked book keeps its name and cached sheet, not its folders or OneDrive address.
    targets = [r.get("Target") for r in etree.fromstring(
        archive.read("xl/externalLinks/_rels/externalLink1.xml.rels"))]
    assert targets == ["Budget.xlsx", "Budget.xlsx"]
    link = archive.read("xl/externalLinks/externalLink1.xml")
    assert b"alternateUrls" not in link and b'sheetName val="Budget"' in link
    assert {kinds.AUTHOR, kinds.DATES, kinds.PATHS} <= set(checked.kinds)
