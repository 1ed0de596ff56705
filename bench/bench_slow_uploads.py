"""A disclosure with a file while slow uploads hold every upload slot, against the same portal idle.

Through `portal serve` (one worker, shipped key-derivation costs, four upload slots): the time to
accept a disclosure with a 1 MiB file sent at full speed, idle, then while 10 uploads trickle at
2 KiB/s and 4 at exactly the minimum body rate (1 KiB/s), held past the slot grace. Prints the
median accept time of each and their ratio (goal <= 3x: the disclosure pre-empts one slow holder
instead of waiting for or being refused by them), and how many attempts were refused. Bounded:
ROUNDS tries each (BENCH_SLOW_ROUNDS), a fresh set of attackers for each try under attack.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_disclosures import shipped_installation  # noqa: E402
from tests.guard.served_uploads import send_upload  # noqa: E402
from tests.support import start_server  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_SLOW_ROUNDS", 5))
GRACE = 3  # PORTAL_UPLOAD_SLOT_GRACE for the run: the attackers are held past it before each try
MiB = 1024 * 1024


def accept_time(port: int) -> tuple[float, bool]:
    started = time.monotonic()
    sending = send_upload(port, "A genuine disclosure with a file",
                          [("attachments", "evidence.pdf", os.urandom(MiB))], rate=64 * MiB)
    sending.wait(120)
    accepted = sending.status == 200 and 'id="receipt"' in sending.page
    sending.close()
    return time.monotonic() - started, accepted


def attack(port: int) -> list:
    return [send_upload(port, f"trickle {i}", [("attachments", "slow.bin", os.urandom(256 * 1024))],
                        rate=2048 if i < 10 else 1024) for i in range(14)]


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-slow-uploads-"))
    data_dir = workdir / "data"
    try:
        shipped_installation(data_dir)
        server = start_server(data_dir, workers=1, env={
            "PORTAL_UPLOAD_SLOT_GRACE": str(GRACE), "PORTAL_MAX_CONCURRENT_UPLOADS": "4"})
        try:
            accept_time(server.port)  # warm-up
            idle, attacked, refused = [], [], 0
            for _ in range(ROUNDS):
                seconds, ok = accept_time(server.port)
                idle.append(seconds)
                refused += not ok
                attackers = attack(server.port)
                time.sleep(GRACE + 1)
                seconds, ok = accept_time(server.port)
                attacked.append(seconds)
                refused += not ok
                for attacker in attackers:
                    attacker.close()
                time.sleep(1)
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    idle_median, attacked_median = statistics.median(idle), statistics.median(attacked)
    print(f"disclosure with a 1 MiB file, median of {ROUNDS}: idle {idle_median:.2f} s, under 14"
          f" slow uploads {attacked_median:.2f} s; ratio {attacked_median / idle_median:.2f}x"
          f" (goal <= 3x); refused: {refused}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
