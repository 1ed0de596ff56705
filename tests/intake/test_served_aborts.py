"""An upload the client abandons half way leaves no blob and no case behind (served process)."""
from __future__ import annotations

import os
import socket
import time

import pytest

from portal.core.context import open_context
from tests.support import HttpClient, csrf_token, database, disclosure_fields, multipart, start_server

pytestmark = pytest.mark.slow


def test_an_aborted_upload_leaves_no_blob_and_no_case(installation):
    server = start_server(installation.data_dir, workers=1)
    try:
        client = HttpClient("127.0.0.1", server.port)
        token = csrf_token(client.get("/disclose").text)
        body, content_type = multipart(disclosure_fields(token, "abandoned"),
                                       [("attachments", "big.bin", os.urandom(8 * 1024 * 1024))])
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        head = (f"POST /disclose HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n").encode()
        data_dir = installation.data_dir
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(head + body[: len(body) // 2])
            # Wait until the server is writing the encrypted blob, then hang up.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not database.blobs(data_dir, unfinished=True):
                time.sleep(0.05)
            assert database.blobs(data_dir, unfinished=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and database.blobs(data_dir):
            time.sleep(0.2)
        assert database.blobs(data_dir) == []
        assert open_context(installation.data_dir).db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
        # The server is still healthy afterwards.
        assert client.get("/").status == 200
    finally:
        server.stop()
