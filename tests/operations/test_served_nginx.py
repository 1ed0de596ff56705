"""The shipped nginx configuration (deploy/nginx/portal-proxy.conf) in front of `portal serve`.

The test starts Debian's nginx itself, as its own child process, with its own prefix, temporary
directories and logs under tmp_path, on a free loopback port, including the shipped file verbatim.
A discloser bound to 127.0.0.2 sends a disclosure with a marker in its text and in a 3 MiB attachment
(three times nginx's in-memory body buffer, so a buffered body would be written to client_body_temp),
and a chunked reply with another marker; an officer signs in and downloads the attachment (larger than
nginx's response buffers, so a buffered response would be written to proxy_temp). Afterwards no file
under tmp_path (the portal's data directory, nginx's temporary directories and every log) holds
either marker, nginx opened no file in its temporary directories (strace sees it, though nginx deletes
such files at once), and no log holds the client's address. The portal's security headers pass through.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from portal.core.config import MiB, load_settings
from portal.web.server import KEEPALIVE_SECONDS, DEFAULT_WORKER_TIMEOUT
from tests.conftest import MARKER
from tests.support import (ROOT, TRACED, HttpClient, csrf_token, disclosure_fields, files_containing, free_port,
                           multipart, receipt_from, start_server, strace_writes)

pytestmark = pytest.mark.slow

PROXY_CONF = ROOT / "deploy" / "nginx" / "portal-proxy.conf"
CLIENT_ADDRESS = "127.0.0.2"
ATTACHMENT = os.urandom(3 * MiB) + MARKER.encode() + os.urandom(64 * 1024)
REPLY_MARKER = MARKER + "-chunked-reply"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def directives(text: str) -> dict[str, str]:
    """The first value of each simple directive in an nginx file (comments removed)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.fullmatch(r"(\w+)\s+(.+);", line)
        if m:
            values.setdefault(m.group(1), m.group(2).strip())
    return values


def test_the_shipped_nginx_limits_match_the_portals(installation):
    settings = load_settings(installation.data_dir)
    conf = directives(PROXY_CONF.read_text())
    assert conf["proxy_request_buffering"] == "off" and conf["proxy_http_version"] == "1.1"
    assert conf["client_max_body_size"] == f"{settings.max_request_bytes // MiB}m"
    assert conf["client_header_timeout"] == f"{settings.header_timeout_seconds}s"
    assert conf["client_body_timeout"] == f"{settings.body_idle_timeout_seconds}s"
    assert conf["proxy_send_timeout"] == f"{settings.body_idle_timeout_seconds}s"
    assert conf["proxy_read_timeout"] == f"{DEFAULT_WORKER_TIMEOUT}s"
    assert conf["keepalive_timeout"] == f"{KEEPALIVE_SECONDS}s"
    assert conf["access_log"] == "off" and conf["proxy_max_temp_file_size"] == "0"
    assert "remote_addr" not in PROXY_CONF.read_text()


def start_nginx(prefix: Path, upstream_port: int) -> tuple[subprocess.Popen, int]:
    """nginx in the foreground under strace, as this test's child, everything it writes under `prefix`."""
    port = free_port()
    (prefix / "logs").mkdir(parents=True)
    user = "user root;" if os.geteuid() == 0 else ""  # workers must reach the temp dirs under tmp_path
    temp_dirs = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in TEMP_KINDS)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
{user}
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'logs' / 'error.log'} info;
events {{ worker_connections 128; }}
http {{
{temp_dirs}
    upstream portal {{ server 127.0.0.1:{upstream_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port};
        include {PROXY_CONF};
    }}
}}
""")
    # Under strace: nginx deletes a buffered body's temporary file after the request, so only the
    # system calls show whether a body ever went to disk.
    strace = ["strace", "-f", "-qq", "-e", "signal=none", "-e", "trace=" + ",".join(TRACED),
              "-o", str(prefix / "strace.txt")]
    process = subprocess.Popen(strace + [NGINX, "-p", str(prefix), "-e", str(prefix / "logs" / "startup.log"),
                                "-c", str(conf), "-g", "daemon off;"],
                               stdout=open(prefix / "logs" / "stdout.log", "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("nginx exited: " + (prefix / "logs" / "startup.log").read_text(errors="replace"))
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("nginx did not start")


def stop_nginx(process: subprocess.Popen, prefix: Path) -> str:
    """Signal nginx's master itself (strace, our child, would detach and leave it running)."""
    pid_file = prefix / "nginx.pid"
    if process.poll() is None and pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGQUIT)  # graceful: workers finish, logs are flushed
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return "".join(p.read_text(errors="replace") for p in (prefix / "logs").glob("*.log"))


def chunked_post(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(CLIENT_ADDRESS, 0))
    pieces = (body[i:i + 100_000] for i in range(0, len(body), 100_000))
    conn.request("POST", path, body=pieces, headers={**headers, "Transfer-Encoding": "chunked"},
                 encode_chunked=True)
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_disclosure_through_nginx_leaves_no_plaintext_on_disk(installation, tmp_path):
    server = start_server(installation.data_dir)
    nginx, port = start_nginx(tmp_path / "nginx", server.port)
    try:
        discloser = HttpClient("127.0.0.1", port, source_address=CLIENT_ADDRESS)
        page = discloser.get("/")
        assert page.status == 200
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
        assert "nginx/" not in (page.headers.get("Server") or "")

        form = discloser.get("/disclose")
        response = discloser.post_multipart("/disclose", disclosure_fields(csrf_token(form.text), "Seen: " + MARKER),
                                            [("attachments", "evidence.pdf", ATTACHMENT)])
        assert response.status == 200, response.text
        receipt = receipt_from(response.text)

        opened = discloser.post_form("/status", {"csrf_token": csrf_token(discloser.get("/status").text),
                                                 "receipt": receipt})
        assert opened.status == 303
        thread = discloser.get("/status")
        body, content_type = multipart([("csrf_token", csrf_token(thread.text)), ("message", REPLY_MARKER)],
                                       [("attachments", "more.bin", os.urandom(2 * MiB) + REPLY_MARKER.encode())])
        cookies = "; ".join(f"{k}={v}" for k, v in discloser.cookies.items())
        assert chunked_post(port, "/status/reply", body, {"Content-Type": content_type, "Cookie": cookies}) == 303
        assert REPLY_MARKER in discloser.get("/status").text

        officer = HttpClient("127.0.0.1", port, source_address=CLIENT_ADDRESS)
        person = installation.officer
        response = officer.post_form("/console/login", {
            "csrf_token": csrf_token(officer.get("/console/login").text), "email": person.email,
            "passphrase": person.passphrase, "totp": person.code()})
        assert response.status == 303
        [case_url] = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)
        case_page = officer.get(case_url).text
        assert MARKER in case_page
        [download_url] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', case_page)[:1]
        download = officer.get(download_url)
        assert download.status == 200 and download.body == ATTACHMENT
        assert download.headers["Content-Security-Policy"] == "sandbox"
    finally:
        nginx_output = stop_nginx(nginx, tmp_path / "nginx")
        server_output = server.stop()

    assert CLIENT_ADDRESS not in nginx_output and CLIENT_ADDRESS not in server_output
    written = [path for _, _, path in strace_writes((tmp_path / "nginx" / "strace.txt").read_text())]
    assert written, "strace saw nothing: the check below would prove nothing"
    temp_dirs = {str(tmp_path / "nginx" / kind) for kind in TEMP_KINDS}
    temp_files = [p for p in written if str(Path(p).parent) in temp_dirs]
    assert temp_files == [], "nginx wrote a body or response to a temporary file"
    for needle in (MARKER.encode(), REPLY_MARKER.encode(), ATTACHMENT[1000:1064]):
        assert files_containing(tmp_path, needle) == [], needle[:40]
    logs = [p for p in (tmp_path / "nginx").rglob("*") if p.is_file() and p.suffix == ".log"]
    assert logs, "nginx wrote no log at all: the check below would prove nothing"
    for log in logs:
        assert CLIENT_ADDRESS not in log.read_text(errors="replace"), log
