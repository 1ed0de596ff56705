"""Shared test helpers (moved here from the test modules that first used them)."""
from __future__ import annotations

import os
import re

from tests.conftest import MARKER
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from

ATTACHMENT = b"<svg onload=alert(1)>" + os.urandom(2 * 1024 * 1024) + MARKER.encode()


def disclose(client, details=MARKER, files=(("attachments", "report <1>.svg", ATTACHMENT),)):
    token = csrf_token(client.get("/disclose").text)
    response = post_multipart(client, "/disclose", disclosure_fields(token, details), files)
    assert response.status_code == 200, response.text
    return receipt_from(response.text)


def sign_in(client, person):
    token = csrf_token(client.get("/console/login").text)
    return client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                               "passphrase": person.passphrase, "totp": person.code()})


def case_links(html: str) -> list[str]:
    return re.findall(r'href="(/console/cases/[^"/]+)"', html)


def open_only_case(client, person):
    """Sign `person` in and open the one case in their inbox: (case's URL, its page, the URL of its
    one attachment)."""
    assert sign_in(client, person).status_code == 303
    [case_url] = case_links(client.get("/console/").text)
    page = client.get(case_url)
    [download_url] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', page.text)
    return case_url, page, download_url
