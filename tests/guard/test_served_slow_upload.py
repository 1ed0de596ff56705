"""A slow upload outlasts gunicorn's worker timeout: the gthread worker keeps beating while one of its
threads reads the body, so a 2 GiB disclosure sent over a slow Tor circuit is not cut off."""
from __future__ import annotations

import http.client
import os
import time

import pytest

from tests.support import HttpClient, csrf_token, disclosure_fields, multipart, start_server

pytestmark = pytest.mark.slow

WORKER_TIMEOUT = 2


def test_an_upload_slower_than_the_worker_timeout_completes(installation):
    server = start_server(installation.data_dir, workers=1, env={"PORTAL_WORKER_TIMEOUT": str(WORKER_TIMEOUT)})
    try:
        client = HttpClient("127.0.0.1", server.port)
        token = csrf_token(client.get("/disclose").text)
        body, content_type = multipart(disclosure_fields(token, "sent slowly"),
                                       [("attachments", "slow.bin", os.urandom(512 * 1024))])
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.putrequest("POST", "/disclose")
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Cookie", "; ".join(f"{k}={v}" for k, v in client.cookies.items()))
        conn.endheaders()
        started = time.monotonic()
        pieces = 16
        step = -(-len(body) // pieces)
        for i in range(pieces):
            conn.send(body[i * step:(i + 1) * step])
            time.sleep(0.5)  # 8 s in all: four times the worker timeout
        response = conn.getresponse()
        page = response.read().decode()
        assert time.monotonic() - started > 3 * WORKER_TIMEOUT
        assert response.status == 200 and 'id="receipt"' in page
        assert "WORKER TIMEOUT" not in server.output()
    finally:
        server.stop()
