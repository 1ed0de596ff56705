"""Sealing in the discloser's browser (static/seal/portal-crypto.js, issue 27) against the Python
crypto/ on the same bytes, in the same run: node as a stand-in for the browser's engine, normal and
with --jitless (no JIT, no WebAssembly: Tor Browser's "Safer" level).

Prints: file-blob encryption throughput of JS (normal, jitless) as a ratio of crypto.encrypt_stream
on the same bytes (CPU time, best of ROUNDS; the Python side is libsodium in C, so the ratio is far
below 1 and only its trend matters); sealing a disclosure (5 fields, 4 sealed case keys) likewise;
the receipt derivation at each receipt version's shipped Argon2id parameters (crypto.RECEIPT_VERSIONS,
the current version first) at normal and jitless, in seconds and as a ratio to Python's
derive_receipt_identity (target at jitless for the current version: <= 10 s, the issue's "too slow
without JIT" line); and node's peak memory encrypting 50 and 200 MiB (flat).
BENCH_BYTES overrides the 200 MiB of the normal run (jitless encrypts a sixteenth of it).

Then the same in Debian's chromium itself (playwright), against a served portal: the sealing page
(static/seal/disclose.html) seals and uploads a file of a quarter of BENCH_BYTES and one of
BENCH_BYTES in 64 KiB parts while the page's JS heap (CDP Performance.getMetrics, JSHeapUsedSize)
and its renderers' RSS (/proc: the file's bytes are in ArrayBuffers, outside the JS heap) are
sampled every 100 ms, printing each peak during the upload as a ratio of the figure before it
(flat: the same ratio at both sizes, not growing with the file); the same uploads again in chromium
driven over its DevTools pipe without the Network domain (PipeBrowser), whose RSS is the page's own
(with playwright, DevTools keeps a copy of every request body in the renderer); and the page's
file-blob encryption throughput (normal, and with --js-flags=--jitless --no-expose-wasm) as a
ratio of crypto.encrypt_stream on the same bytes (wall time, best of ROUNDS).
`python bench/bench_browser_seal.py receipt` prints only the receipt derivations;
`... chromium` only the chromium figures.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_stream import NullSink, RepeatingSource  # noqa: E402
from crypto import (  # noqa: E402
    RECEIPT_VERSION,
    RECEIPT_VERSIONS,
    attachment_ad,
    derive_receipt_identity,
    encrypt_field,
    encrypt_stream,
    generate_keypair,
    new_case_key,
    new_install_salt,
    new_receipt,
    seal_to,
)

MiB = 1024 * 1024
ROUNDS = 3
NODE = "/usr/bin/node"
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_browser_seal.mjs")
TEXT = ("The grant went to the director\u2019s brother\u2019s firm. " * 20).encode()
FIELDS = ("category", "summary", "details", "disclosed_elsewhere", "contact")


def js(*args: str, jitless: bool = False, stdin: bytes = b"") -> dict:
    flags = ["--jitless"] if jitless else []
    done = subprocess.run([NODE, *flags, DRIVER, *args], input=stdin, capture_output=True,
                          check=True, timeout=3600)
    return json.loads(done.stdout)


def python_stream_cpu(size: int, block: bytes) -> float:
    key = bytes([7]) * 32
    c = time.process_time()
    encrypt_stream(key, RepeatingSource(size, block), NullSink(), attachment_ad("2026-0001", "att-1"))
    return time.process_time() - c


def python_disclosures_cpu(n: int) -> float:
    readers = [generate_keypair()[1] for _ in range(4)]
    c = time.process_time()
    for _ in range(n):
        case_key = new_case_key()
        for reader in readers:
            seal_to(reader, case_key)
        for field in FIELDS:
            encrypt_field(case_key, "2026-0001", field, TEXT)
    return time.process_time() - c


def best(fn, rounds=ROUNDS) -> float:
    return min(fn() for _ in range(rounds))


def receipt_derivations() -> None:
    """The receipt derivation at each receipt version's shipped parameters, the current version
    (which every new receipt uses) first."""
    salt, receipt = new_install_salt(), new_receipt()
    for version in sorted(RECEIPT_VERSIONS, key=lambda v: v != RECEIPT_VERSION):
        params = RECEIPT_VERSIONS[version]
        w = time.perf_counter()
        derive_receipt_identity(receipt, salt, params)
        py_wall = time.perf_counter() - w
        for label, jitless in (("normal", False), ("jitless", True)):
            got = js("receipt", str(params.opslimit), str(params.memlimit), jitless=jitless)
            target = ""
            if jitless and version == RECEIPT_VERSION:
                target = f" (target at jitless <= 10 s){'' if got['wall'] <= 10 else '  MISSED'}"
            print(f"receipt derivation at receipt version {version}"
                  f"{' (new receipts)' if version == RECEIPT_VERSION else ''} (ops {params.opslimit},"
                  f" {params.memlimit // MiB} MiB), JS {label}: {got['wall']:.2f} s, ratio to Python's"
                  f" {py_wall:.2f} s: {got['wall'] / py_wall:.1f}{target}")


CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
JITLESS_ARGS = ["--js-flags=--jitless --no-expose-wasm"]
# The page's own cipher on the block repeated, in 64 KiB pieces, as the node driver does.
PAGE_STREAM = """async ([block64, size]) => {
  const pc = await import('/static/seal/portal-crypto.js');
  const block = Uint8Array.from(atob(block64), (c) => c.charCodeAt(0));
  const enc = new pc.StreamEncryptor(new Uint8Array(32).fill(7), pc.attachmentAd('2026-0001', 'att-1'));
  const piece = 64 * 1024;
  const t0 = performance.now();
  let length = enc.header.length;
  for (let done = 0; done < size; done += piece) {
    const at = done % block.length;
    for (const c of enc.write(block.subarray(at, at + Math.min(piece, size - done)))) length += c.length;
  }
  for (const c of enc.close()) length += c.length;
  return { wall: (performance.now() - t0) / 1000, length };
}"""


def python_stream_wall(size: int, block: bytes) -> float:
    key = bytes([7]) * 32
    w = time.perf_counter()
    encrypt_stream(key, RepeatingSource(size, block), NullSink(), attachment_ad("2026-0001", "att-1"))
    return time.perf_counter() - w


def served_portal(workdir):
    """A served installation with one officer and a signed sealing bundle: (server, base url)."""
    from portal.web.app import create_app
    from tests.conftest import add_account, run_cli
    from tests.support import start_server
    from tests.support.sealing import sign_bundle

    data_dir = workdir / "data"
    run_cli(data_dir, "init", "--insecure-fast-kdf")  # the receipt derivation is timed above
    run_cli(data_dir, "channel", "add", "Audit and Risk")
    add_account(data_dir, "officer", "ana@agency.govt.nz", "Ana Officer", ["Audit and Risk"])
    import pytest
    # The release key installed as an operator does (PORTAL_RELEASE_KEY), for the served process.
    with pytest.MonkeyPatch.context() as patch:
        sign_bundle(create_app(data_dir), data_dir, patch)
        server = start_server(data_dir, workers=2,
                              env={"PORTAL_UPLOAD_BYTES_PER_DAY": str(4 * 1024 * MiB)})
    return server, f"http://127.0.0.1:{server.port}"


def renderers_rss() -> int:
    """Resident bytes of this process's chromium renderers (descendants with --type=renderer): the
    file's bytes live in ArrayBuffers, which the JS heap figure does not count."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    ours, total = {os.getpid()}, 0
    for pid in sorted(parent):  # children have larger pids than their parents here, bar pid wrap
        if parent[pid] in ours:
            ours.add(pid)
    for pid in ours - {os.getpid()}:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"--type=renderer" not in cmdline.read():
                    continue
            with open(f"/proc/{pid}/status") as status:
                total += next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


class PipeBrowser:
    """Debian's chromium driven over --remote-debugging-pipe with only the DevTools domains asked
    for: playwright enables the Network domain, whose agent keeps a copy of every request body in
    the renderer (about one byte per byte uploaded, up to DevTools' buffer), which is not the page's
    memory."""

    def __init__(self, args):
        import tempfile

        self._profile = tempfile.mkdtemp(prefix="bench-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def fds():
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.process = subprocess.Popen(
            ["/usr/bin/chromium", "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={self._profile}",
             *args, "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next = 0
        self.session = None

    def send(self, method, params=None, session=True):
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_child, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed its pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"]))
        return result["result"].get("value")

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except RuntimeError:
            pass
        self.process.wait(timeout=30)
        import shutil

        shutil.rmtree(self._profile, ignore_errors=True)


FILL_FORM = """(() => { const set = (id, v) => { const e = document.getElementById(id); e.value = v;
  e.dispatchEvent(new Event('change')); };
  set('channel', 'Audit and Risk'); set('category', 'public_funds'); set('summary', 'Benchmark');
  set('details', 'A large file.'); set('disclosed_elsewhere', 'no'); })()"""


def pipe_upload(base: str, path, extra_args: list[str]) -> dict:
    """The sealing page seals and sends the file at `path` in chromium over the DevTools pipe (no
    Network domain): renderers' RSS and JS heap (Runtime.getHeapUsage) before, at peak (every
    100 ms) and after a collection once sent."""
    browser = PipeBrowser(CHROMIUM_ARGS + extra_args)
    try:
        browser.open(base + "/static/seal/disclose.html")
        for _ in range(600):
            try:
                if browser.evaluate("!!document.getElementById('seal-form') && !document.getElementById('seal-form').hidden"):
                    break
            except RuntimeError:
                pass  # the page is still loading
            time.sleep(0.1)
        browser.evaluate(FILL_FORM)
        root = browser.send("DOM.getDocument")["root"]["nodeId"]
        node = browser.send("DOM.querySelector", {"nodeId": root, "selector": "#files"})["nodeId"]
        browser.send("DOM.setFileInputFiles", {"nodeId": node, "files": [str(path)]})
        browser.send("HeapProfiler.collectGarbage")
        rss_before, heap_before = renderers_rss(), browser.send("Runtime.getHeapUsage")["usedSize"]
        rss_peak, heap_peak, started = rss_before, heap_before, time.perf_counter()
        browser.evaluate("document.getElementById('send').click()")
        while not browser.evaluate("!document.getElementById('done').hidden"):
            if browser.evaluate("!document.getElementById('problem').hidden"):
                raise RuntimeError("the page refused: " + browser.evaluate("document.getElementById('problem').textContent"))
            rss_peak = max(rss_peak, renderers_rss())
            heap_peak = max(heap_peak, browser.send("Runtime.getHeapUsage")["usedSize"])
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        browser.send("HeapProfiler.collectGarbage")
        time.sleep(1)
        return {"seconds": seconds, "rss_before": rss_before, "rss_peak": rss_peak, "rss_after": renderers_rss(),
                "heap_before": heap_before, "heap_peak": heap_peak}
    finally:
        browser.close()


def heap_used(cdp) -> int:
    return int({m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["JSHeapUsedSize"])


def chromium_upload(browser, base: str, path, size: int) -> dict:
    """Seal and send a disclosure with the file at `path` on the sealing page, sampling the JS
    heap every 100 ms: heap before (after a collection), peak, samples, seconds."""
    page = browser.new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(base + "/static/seal/disclose.html")
    page.get_by_label("Who should receive this disclosure?").select_option("Audit and Risk")
    page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
    page.get_by_label("A short title").fill("Benchmark")
    page.get_by_label("What happened?").fill("A large file.")
    page.get_by_label("Have you raised this anywhere else?").select_option("no")
    page.get_by_label("Files (optional)").set_input_files(str(path))
    cdp.send("HeapProfiler.collectGarbage")
    before, rss_before = heap_used(cdp), renderers_rss()
    peak, rss_peak, samples = before, rss_before, 0
    started = time.perf_counter()
    page.get_by_role("button", name="Seal and send").click()
    done = page.locator("#done")
    while not done.is_visible():
        if page.locator("#problem").is_visible():
            raise RuntimeError("the page refused: " + page.locator("#problem").inner_text())
        peak, rss_peak = max(peak, heap_used(cdp)), max(rss_peak, renderers_rss())
        samples += 1
        page.wait_for_timeout(100)
    seconds = time.perf_counter() - started
    # What is still held once the garbage is collected: retained bytes would stay.
    cdp.send("HeapProfiler.collectGarbage")
    page.wait_for_timeout(1000)
    rss_after = renderers_rss()
    page.close()
    return {"before": before, "peak": peak, "rss_before": rss_before, "rss_peak": rss_peak, "samples": samples,
            "seconds": seconds, "rss_after": rss_after}


def chromium_figures(size: int, block: bytes) -> None:
    import base64
    import shutil
    import tempfile
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="bench-browser-seal-"))
    server = None
    try:
        server, base = served_portal(workdir)
        paths = {}
        for n in (size // 4, size):
            paths[n] = workdir / f"statement-{n}.bin"
            with open(paths[n], "wb") as out:
                for _ in range(n // MiB):
                    out.write(os.urandom(MiB))
                out.write(os.urandom(n % MiB))
        block64 = base64.b64encode(block).decode()
        with sync_playwright() as playwright:
            for label, extra in (("normal", []), ("jitless", JITLESS_ARGS)):
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS + extra)
                page = browser.new_page()
                page.goto(base + "/static/seal/disclose.html")
                n = size if not extra else max(MiB, size // 16)
                js_wall = best(lambda: page.evaluate(PAGE_STREAM, [block64, n])["wall"])
                py_wall = best(lambda: python_stream_wall(n, block))
                print(f"  chromium file blob, JS {label} ({n / MiB:.0f} MiB): {n / MiB / js_wall:8.1f} MiB/s;"
                      f" Python crypto/ {n / MiB / py_wall:8.1f} MiB/s")
                print(f"chromium file-blob sealing throughput ratio, JS {label} vs Python crypto/:"
                      f" {py_wall / js_wall:.3f}")
                page.close()
                for n, path in paths.items() if not extra else ():
                    got = chromium_upload(browser, base, path, n)
                    print(f"chromium sealing page, {n / MiB:.0f} MiB file sealed and uploaded in 64 KiB parts:"
                          f" {got['seconds']:.1f} s ({n / MiB / got['seconds']:.1f} MiB/s end to end, with"
                          f" the served portal); JS heap before {got['before'] / MiB:.1f} MiB, peak"
                          f" {got['peak'] / MiB:.1f} MiB over {got['samples']} samples:"
                          f" peak/before {got['peak'] / got['before']:.2f}; renderers' RSS before"
                          f" {got['rss_before'] / MiB:.0f} MiB, peak {got['rss_peak'] / MiB:.0f} MiB:"
                          f" peak/before {got['rss_peak'] / got['rss_before']:.2f}, after a collection"
                          f" {got['rss_after'] / MiB:.0f} MiB (the RSS includes the copy of every"
                          " request body that playwright's Network domain keeps: see the pipe run below)")
                browser.close()
        for n, path in paths.items():
            got = pipe_upload(base, path, [])
            print(f"chromium over the DevTools pipe (no Network domain), {n / MiB:.0f} MiB file sealed and"
                  f" uploaded: {got['seconds']:.1f} s; JS heap {got['heap_before'] / MiB:.1f} -> peak"
                  f" {got['heap_peak'] / MiB:.1f} MiB (peak/before {got['heap_peak'] / got['heap_before']:.2f});"
                  f" renderers' RSS before {got['rss_before'] / MiB:.0f} MiB, peak {got['rss_peak'] / MiB:.0f} MiB"
                  f" (peak/before {got['rss_peak'] / got['rss_before']:.2f}), after a collection"
                  f" {got['rss_after'] / MiB:.0f} MiB (after/before {got['rss_after'] / got['rss_before']:.2f})")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    if sys.argv[1:] == ["receipt"]:
        return receipt_derivations()
    if sys.argv[1:] == ["chromium"]:
        size = int(os.environ.get("BENCH_BYTES", 200 * MiB))
        return chromium_figures(size, os.urandom(MiB))
    size = int(os.environ.get("BENCH_BYTES", 200 * MiB))
    slow_size = max(MiB, size // 16)
    block = os.urandom(MiB)
    print(f"bench_browser_seal: node {subprocess.run([NODE, '--version'], capture_output=True, text=True).stdout.strip()},"
          f" {size / MiB:.0f} MiB normal, {slow_size / MiB:.0f} MiB jitless, best of {ROUNDS}")

    for label, n, jitless in (("normal", size, False), ("jitless", slow_size, True)):
        js_cpu = best(lambda: js("stream", str(n), jitless=jitless, stdin=block)["cpu"])
        py_cpu = best(lambda: python_stream_cpu(n, block))
        print(f"  file blob, JS {label}: {n / MiB / js_cpu:8.1f} MiB/s; Python crypto/ {n / MiB / py_cpu:8.1f} MiB/s")
        print(f"file-blob sealing throughput ratio, JS {label} vs Python crypto/: {py_cpu / js_cpu:.3f}"
              " (informational: libsodium in C is the baseline)")

    disclosures = 200
    for label, jitless in (("normal", False), ("jitless", True)):
        js_cpu = best(lambda: js("disclosure", str(disclosures), jitless=jitless)["cpu"])
        py_cpu = best(lambda: python_disclosures_cpu(disclosures))
        print(f"disclosure sealing (5 fields, 4 case keys) ratio, JS {label} vs Python crypto/: "
              f"{py_cpu / js_cpu:.3f}  [JS {js_cpu / disclosures * 1000:.2f} ms each, Python "
              f"{py_cpu / disclosures * 1000:.2f} ms each]")

    receipt_derivations()

    for n in (size // 4, size):
        rss = js("stream", str(n), stdin=block)["peakRss"] / MiB
        print(f"peak memory (node RSS) encrypting {n / MiB:.0f} MiB in 64 KiB pieces: {rss:.1f} MiB"
              " (flat: the same at both sizes)")

    chromium_figures(size, block)


if __name__ == "__main__":
    main()
