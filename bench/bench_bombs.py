"""A genuine disclosure while eight clients upload bomb .docx files (issue 22), against the same
portal idle in the same run.

Serves a fresh installation with `portal serve` (shipped defaults: 2 workers, shipped key-derivation
costs, file checks in half the cores' places). First, idle, it times TRIES (5) genuine disclosures,
each with a small .docx holding an author and tracked changes (cleaned on the way in), the page's
proof solved as its script would. Then BOMBERS (8) clients send disclosures as fast as they can,
each with a bomb .docx: 20 KB that parses to just past the bound on a whole file (three parts of
700,000 elements, 2.1 million in all; packages.MAX_PACKAGE_ELEMENTS), the costliest a bomb can now
be, and the same genuine disclosure is timed again. It prints the median of each and their ratio,
what became of the genuine file under the bombs (cleaned, or kept as sent because no place for
checks came free in time), the proof's bits asked, and the bombs' answers.
Bounded: BENCH_BOMBS_SECONDS (default 40) caps the phase under bombs; every request has a timeout.
The bombers run in a process of their own, so the genuine client's timings are not its share of
one Python interpreter with eight other threads.
"""
from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tests.support.hidden_files as made  # noqa: E402
from bench.bench_disclosures import shipped_installation  # noqa: E402
from bench.bench_flood import paid, run_until  # noqa: E402
from tests.support import HttpClient, csrf_token, disclosure_fields, start_server  # noqa: E402
from tests.support.proofs import bits_of, challenge_from  # noqa: E402

TRIES = 5
BOMBERS = int(os.environ.get("BENCH_BOMBS_CLIENTS", 8))
BOMB_SECONDS = float(os.environ.get("BENCH_BOMBS_SECONDS", 40))
TIMEOUT = 120


def bomb_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for index in range(3):
            archive.writestr(f"word/part{index}.xml", b"<r>" + b"<p/>" * 700_000 + b"</r>")
    return out.getvalue()


def disclose(port: int, name: str, data: bytes) -> tuple[int, str, int]:
    """One disclosure with one file, the proof solved as the page's script does: (status, what the
    receipt says of the file, the proof's bits asked)."""
    http = HttpClient("127.0.0.1", port)
    page = http.get("/disclose").text
    bits = bits_of(challenge_from(page))
    http.cookies.pop("__Host-pd_ticket_disclose", None)  # this client runs the page's script
    fields = disclosure_fields(csrf_token(page), "A disclosure with a file.") + paid(page, lane=False)
    fields.append(("strip_metadata", "y"))
    response = http.post_multipart("/disclose", fields, [("attachments", name, data)])
    return response.status, file_outcome(response.text), bits


def file_outcome(page: str) -> str:
    if "could not run just now" in page:
        return "not checked (no place for checks came free)"
    if "too large or too complex" in page:
        return "too large or too complex"
    if "could not be checked" in page:
        return "not checked (other)"
    if "removed:" in page:
        return "cleaned"
    return "no receipt"


def genuine(port: int) -> tuple[float, int, str, int]:
    started = time.perf_counter()
    status, outcome, bits = disclose(port, "minutes.docx", made.docx())
    return time.perf_counter() - started, status, outcome, bits


def bomb(port: int, stop, totals) -> None:
    """BOMBERS threads, each sending disclosures with a bomb .docx until `stop`; counts of answers
    by outcome added to `totals` (answered 200, too large or too complex, not run, failed)."""
    data, lock, counts = bomb_docx(), threading.Lock(), [0, 0, 0, 0]

    def bomber() -> None:
        while not stop.is_set():
            try:
                status, outcome, _ = disclose(port, "report.docx", data)
            except Exception:  # noqa: BLE001 - a refused connection is part of the attack
                with lock:
                    counts[3] += 1
                continue
            with lock:
                counts[0] += status == 200
                counts[1] += outcome == "too large or too complex"
                counts[2] += outcome.startswith("not checked (no place")

    run_until(stop, BOMBERS, bomber, counts, totals)


def summary(name: str, tries: list) -> str:
    ok = [t for t, status, _, _ in tries if status == 200]
    outcomes = {}
    for _, _, outcome, _ in tries:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    bits = sorted({b for _, _, _, b in tries})
    median = statistics.median(ok) if ok else float("nan")
    return (f"{name}: median {median * 1000:.0f} ms over {len(ok)} of {len(tries)} accepted; the file: "
            + ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
            + f"; proof bits asked {bits}"), median


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-bombs-"))
    data_dir = workdir / "data"
    try:
        shipped_installation(data_dir)
        server = start_server(data_dir)
        try:
            genuine(server.port)  # warm-up: the first request loads what every later one uses
            idle = [genuine(server.port) for _ in range(TRIES)]
            stop, totals = multiprocessing.Event(), multiprocessing.Array("l", 4)
            bombers = multiprocessing.Process(target=bomb, args=(server.port, stop, totals), daemon=True)
            bombers.start()
            time.sleep(3)  # let the bombs take the places for checks
            stop_at, attacked = time.monotonic() + BOMB_SECONDS, []
            while len(attacked) < TRIES and time.monotonic() < stop_at:
                attacked.append(genuine(server.port))
            stop.set()
            bombers.join(TIMEOUT)
            answered, complex_, not_run, failed = totals[:]
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    idle_line, idle_median = summary("idle", idle)
    bomb_line, bomb_median = summary(f"under {BOMBERS} bomb uploaders", attacked)
    print(idle_line)
    print(bomb_line)
    print(f"ratio under bombs / idle: {bomb_median / idle_median:.2f}")
    print(f"bombs: {answered} disclosures answered 200 ({complex_} said too large or too complex,"
          f" {not_run} not checked for want of a place), {failed} failed connections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
