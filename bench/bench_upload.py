"""A large attachment uploaded through `portal serve`, against raw secretstream to the same disk, same run.

Prints the upload's throughput as a ratio to raw libsodium secretstream push of the same bytes, in the
same chunk size, written to a file in the same data directory and fsynced at the end as the blob
writer does (target >= TARGET, 0.8 since issue 23), and how much more the gunicorn worker's peak memory grows over a 2 GiB
upload (the issue's size) than over a 512 MiB one (target < 32 MiB): each upload runs in a fresh
server, its growth is VmHWM after the upload minus VmHWM before it (after a warm-up GET), and the
figure is the 2 GiB growth minus the 512 MiB growth. Each figure is the median of ROUNDS interleaved rounds (the machine
is small and noisy); worker and baseline CPU seconds are printed too, as they suffer less from noise.

Since issue 26 the portal pads each file (Padme, SECURITY.md "Padded sizes"): the baseline pushes
the padded length, padded_length(size) bytes, which is what the portal writes for the upload.

BENCH_UPLOAD_BYTES overrides the 2 GiB for quick runs (the small upload is then a quarter of it);
BENCH_UPLOAD_ROUNDS overrides the number of rounds.
"""
from __future__ import annotations

import http.client
import io
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nacl.bindings as b  # noqa: E402

from crypto import CHUNK_SIZE, padded_length  # noqa: E402
from tests.support.proofs import solved  # noqa: E402

MiB = 1024 * 1024
BLOCK = 1 * MiB  # one random block, repeated: the attachment is never held in memory
SEND_SIZE = 1 * MiB  # http.client's block size for a file-like body
ROUNDS = int(os.environ.get("BENCH_UPLOAD_ROUNDS", 3))
TARGET = 0.8  # the goal (issue 23); 0.5 before
CHANNEL = "Bench channel"
FORM_COOKIE = "__Host-pd_form"
CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT_MARK = b'id="receipt"'


# --- the request body, streamed ---------------------------------------------------------------------

class MultipartBody(io.RawIOBase):
    """prefix + `size` attachment bytes (one random block repeated) + suffix, read in pieces.
    Block-aligned reads of a whole block return the block itself, so the client costs little."""

    def __init__(self, prefix: bytes, size: int, block: bytes, suffix: bytes) -> None:
        self._parts = [(prefix, len(prefix)), (None, size), (suffix, len(suffix))]
        self._block = block
        self._part, self._pos = 0, 0
        self.length = len(prefix) + size + len(suffix)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while self._part < len(self._parts):
            data, length = self._parts[self._part]
            left = length - self._pos
            if left <= 0:
                self._part, self._pos = self._part + 1, 0
                continue
            take = left if n is None or n < 0 else min(n, left)
            if data is not None:
                out = data[self._pos : self._pos + take]
            else:
                off = self._pos % len(self._block)
                take = min(take, len(self._block) - off)
                out = self._block if (off == 0 and take == len(self._block)) else self._block[off : off + take]
            self._pos += take
            return out
        return b""


def form_body(token: str, proof: list[tuple[str, str]], size: int, block: bytes) -> tuple[MultipartBody, str]:
    """A disclosure form as a browser sends it, with the page's proof of work solved as its script
    does (portal.guard.proofs) and one attachment of `size` bytes."""
    boundary = "----PortalBenchBoundary" + secrets.token_hex(16)
    fields = {"csrf_token": token, "channel": CHANNEL, "category": "public_funds",
              "summary": "Large attachment benchmark", "details": "A benchmark upload of one large file.",
              "disclosed_elsewhere": "no", "contact": "", **dict(proof)}
    prefix = bytearray()
    for name, value in fields.items():
        prefix += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    prefix += (f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="bench.bin"\r\n'
               "Content-Type: application/octet-stream\r\n\r\n").encode()
    suffix = f"\r\n--{boundary}--\r\n".encode()
    assert boundary.encode() not in block
    return MultipartBody(bytes(prefix), size, block, suffix), f"multipart/form-data; boundary={boundary}"


# --- the server ----------------------------------------------------------------------------------

def portal_cli(data: Path, *args: str, stdin: str | None = None) -> None:
    done = subprocess.run([sys.executable, "-m", "portal", "--data", str(data), *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"portal {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def set_up(data: Path) -> None:
    portal_cli(data, "init", "--insecure-fast-kdf")
    portal_cli(data, "channel", "add", CHANNEL)
    portal_cli(data, "officer", "add", "--email", "officer@bench.invalid", "--name", "Bench Officer",
               "--channel", CHANNEL, "--passphrase-stdin", stdin="bench passphrase, not a secret\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _children(pid: int) -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == pid]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


class Server:
    """`python -m portal serve` with one gthread worker, in its own process."""

    def __init__(self, data: Path, log: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "PORTAL_SUBMISSIONS_PER_HOUR": "1000000",
               "PORTAL_MAX_ATTACHMENT_BYTES": str(64 * 1024 * MiB),
               "PORTAL_MAX_SUBMISSION_BYTES": str(64 * 1024 * MiB),
               "PORTAL_FREE_SPACE_FLOOR_BYTES": "1"}
        self._log = open(log, "ab")
        start = self._log.tell()  # the log is shared by the run's servers: read this one's part
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portal", "--data", str(data), "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", "1"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self._log_path = log
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("server exited early:\n" + log.read_text(errors="replace"))
            # The worker gunicorn booted (the master has other, short-lived children: the file
            # checks' sandbox probe among them).
            this_server = log.read_bytes()[start:].decode(errors="replace")
            workers = [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", this_server)]
            if workers:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        break
                except OSError:
                    pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("server did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.1)
        self.worker = workers[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def get_form(port: int, size: int = 0) -> tuple[str, str, list[tuple[str, str]]]:
    """GET /disclose: the CSRF token, the form cookie (Secure, so kept by hand) and the page's proof
    of work solved for an attachment of `size` bytes (before the upload is timed: a browser solves
    it while the person types)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/disclose")
    resp = conn.getresponse()
    html = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError(f"GET /disclose answered {resp.status}")
    cookie = None
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        if name == FORM_COOKIE:
            cookie = rest.split(";", 1)[0]
    m = CSRF_RE.search(html)
    if cookie is None or m is None:
        raise RuntimeError("no form cookie or CSRF token from GET /disclose")
    return m.group(1).decode(), cookie, solved(html.decode(), declared_bytes=size + 64 * 1024)


def upload(port: int, size: int, block: bytes) -> float:
    """POST a disclosure with one `size`-byte attachment; seconds until the receipt page is back."""
    token, cookie, proof = get_form(port, size)
    body, content_type = form_body(token, proof, size, block)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=SEND_SIZE)
    headers = {"Content-Type": content_type, "Content-Length": str(body.length),
               "Cookie": f"{FORM_COOKIE}={cookie}", "User-Agent": "PortalBench/1.0"}
    t = time.perf_counter()
    conn.request("POST", "/disclose", body=body, headers=headers)
    resp = conn.getresponse()
    html = resp.read()
    elapsed = time.perf_counter() - t
    conn.close()
    if resp.status != 200 or RECEIPT_MARK not in html:
        raise RuntimeError(f"upload answered {resp.status}, not the receipt page:\n"
                           + html.decode(errors="replace")[:2000])
    return elapsed


def upload_in_fresh_server(data: Path, log: Path, size: int, block: bytes) -> tuple[float, float, float]:
    """Seconds for the upload, the worker's VmHWM growth over it (MiB) and the worker's CPU seconds,
    in a fresh server."""
    with Server(data, log) as server:
        get_form(server.port)  # warm up: templates, imports, first database connection
        before, cpu = vm_hwm_kib(server.worker), cpu_seconds(server.worker)
        elapsed = upload(server.port, size, block)
        after, cpu = vm_hwm_kib(server.worker), cpu_seconds(server.worker) - cpu
    for blob in (data / "blobs").iterdir():  # keep the disk from filling up over the rounds
        blob.unlink()
    return elapsed, (after - before) / 1024, cpu


# --- the baseline -------------------------------------------------------------------------------

def raw_to_disk(path: Path, size: int, block: bytes) -> tuple[float, float]:
    """Raw secretstream push of the same bytes, same chunk size, to a file fsynced at the end:
    wall seconds and CPU seconds."""
    cuts = [block[i : i + CHUNK_SIZE] for i in range(0, len(block), CHUNK_SIZE)]
    assert len(block) % CHUNK_SIZE == 0
    t, cpu = time.perf_counter(), time.process_time()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        state = b.crypto_secretstream_xchacha20poly1305_state()
        f.write(b.crypto_secretstream_xchacha20poly1305_init_push(state, os.urandom(32)))
        push, write, tag = b.crypto_secretstream_xchacha20poly1305_push, f.write, 0
        left, i = size, 0
        while left > 0:
            chunk = cuts[i % len(cuts)] if left >= CHUNK_SIZE else cuts[i % len(cuts)][:left]
            left -= len(chunk)
            if left == 0:
                tag = b.crypto_secretstream_xchacha20poly1305_TAG_FINAL
            write(push(state, chunk, None, tag))
            i += 1
        f.flush()
        os.fsync(f.fileno())
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    path.unlink()
    return elapsed, cpu


# --- the run --------------------------------------------------------------------------------------

def human(n: int) -> str:
    return f"{n / (1024 * MiB):g} GiB" if n >= 1024 * MiB and n % (1024 * MiB) == 0 else f"{n / MiB:g} MiB"


def main() -> None:
    size = int(os.environ.get("BENCH_UPLOAD_BYTES", 2048 * MiB))  # issue 23's size
    small = size // 4
    block = os.urandom(BLOCK)
    print(f"bench_upload: {human(size)} attachment through `portal serve` (1 gthread worker), "
          f"{CHUNK_SIZE // 1024} KiB chunks, median of {ROUNDS} rounds; baseline: raw secretstream of the "
          f"padded length, {padded_length(size)} bytes")
    root = Path(tempfile.mkdtemp(prefix="portal-bench-upload-"))
    data, log = root / "data", root / "server.log"
    try:
        set_up(data)
        raw_t, up_t, ratios, growth_small, growth_big, raw_cpu, up_cpu = [], [], [], [], [], [], []
        for n in range(ROUNDS):
            raw, rcpu = raw_to_disk(data / "raw-secretstream.bin", padded_length(size), block)
            up, grown, ucpu = upload_in_fresh_server(data, log, size, block)
            _, grown_small, _ = upload_in_fresh_server(data, log, small, block)
            raw_cpu.append(rcpu)
            up_cpu.append(ucpu)
            raw_t.append(raw)
            up_t.append(up)
            ratios.append(raw / up)
            growth_big.append(grown)
            growth_small.append(grown_small)
            print(f"  round {n + 1}: raw {size / MiB / raw:7.1f} MiB/s, upload {size / MiB / up:7.1f} MiB/s, "
                  f"ratio {raw / up:.2f}; worker VmHWM growth {human(small)} upload {grown_small:.1f} MiB, "
                  f"{human(size)} upload {grown:.1f} MiB; CPU s raw {rcpu:.2f}, server worker {ucpu:.2f}", flush=True)
    except BaseException:
        if log.exists():
            sys.stderr.write("server log:\n" + log.read_text(errors="replace")[-4000:] + "\n")
        raise
    finally:
        shutil.rmtree(root, ignore_errors=True)

    raw_mibs = size / MiB / statistics.median(raw_t)
    up_mibs = size / MiB / statistics.median(up_t)
    ratio = statistics.median(ratios)
    print(f"  raw secretstream to disk {raw_mibs:8.1f} MiB/s  (median {statistics.median(raw_t):.2f} s)")
    print(f"  upload via portal serve  {up_mibs:8.1f} MiB/s  (median {statistics.median(up_t):.2f} s)")
    print(f"  CPU seconds (informational, less sensitive to a busy machine): raw {statistics.median(raw_cpu):.2f}, "
          f"server worker {statistics.median(up_cpu):.2f}; CPU ratio {statistics.median(raw_cpu) / statistics.median(up_cpu):.2f}")
    print(f"upload throughput ratio vs raw secretstream to the same disk: {ratio:.2f} (target >= {TARGET})"
          f"  [raw {raw_mibs:.1f} MiB/s, upload {up_mibs:.1f} MiB/s]{'' if ratio >= TARGET else '  MISSED'}")
    g_small, g_big = statistics.median(growth_small), statistics.median(growth_big)
    between = g_big - g_small
    print(f"  worker peak memory (VmHWM) growth over one upload: {human(small)} -> {g_small:.1f} MiB, "
          f"{human(size)} -> {g_big:.1f} MiB (medians)")
    print(f"server peak memory growth {human(small)} -> {human(size)}: {between:.1f} MiB "
          f"(target < 32 MiB){'' if between < 32 else '  MISSED'}")


if __name__ == "__main__":
    main()
