"""Disclosures per second under 16 concurrent clients at the shipped key-derivation cost, against the
Argon2id limit measured in the same run.

Every disclosure derives its receipt's keys with Argon2id at the current receipt version's
parameters (the shipped cost), so no server on this machine can accept more than
cores / (seconds per receipt derivation) disclosures a second. This measures that limit in this
process (median of ROUNDS derivations), then serves a fresh
installation with `portal serve` (shipped defaults: 2 workers, 1 key-derivation slot each) and has 16
client threads send text-only disclosures for BENCH_DISCLOSURE_SECONDS (default 20) seconds. It prints
the accepted disclosures per second and their ratio to the limit (1.0 would be every core deriving
receipt keys all the time), and how many answers were 503 (a slot did not come free in time).
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import crypto  # noqa: E402
from tests.conftest import add_account, run_cli  # noqa: E402
from tests.support import HttpClient, csrf_token, disclosure_fields, start_server  # noqa: E402
from tests.support.proofs import solved  # noqa: E402

CLIENTS = 16
SECONDS = float(os.environ.get("BENCH_DISCLOSURE_SECONDS", 20))
ROUNDS = 5


RECEIPT = crypto.RECEIPT_VERSIONS[crypto.RECEIPT_VERSION]  # what every new receipt costs


def seconds_per_receipt_derivation() -> float:
    salt = os.urandom(16)
    times = []
    for _ in range(ROUNDS):
        receipt = crypto.new_receipt()
        started = time.perf_counter()
        crypto.derive_receipt_identity(receipt, salt, RECEIPT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def shipped_installation(data_dir: Path) -> None:
    """An installation at the shipped key-derivation costs with one channel and its officer."""
    run_cli(data_dir, "init")
    run_cli(data_dir, "channel", "add", "Audit and Risk")
    add_account(data_dir, "officer", "ana@agency.govt.nz", "Ana Officer", ["Audit and Risk"])


def main() -> int:
    per_derivation = seconds_per_receipt_derivation()
    cores = os.cpu_count() or 1
    limit = cores / per_derivation
    workdir = Path(tempfile.mkdtemp(prefix="bench-disclosures-"))
    data_dir = workdir / "data"
    try:
        shipped_installation(data_dir)
        server = start_server(data_dir)
        counts = {"accepted": 0, "busy": 0, "other": 0}
        lock = threading.Lock()
        deadline = time.monotonic() + SECONDS

        def client() -> None:
            http = HttpClient("127.0.0.1", server.port)
            while time.monotonic() < deadline:
                page = http.get("/disclose").text  # [flood] solve the page's proof as its script does
                http.cookies.pop("__Host-pd_ticket_disclose", None)
                fields = disclosure_fields(csrf_token(page), "benchmark disclosure") + solved(page)
                status = http.post_multipart("/disclose", fields).status
                with lock:
                    counts["accepted" if status == 200 else "busy" if status == 503 else "other"] += 1

        try:
            started = time.monotonic()
            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rate = counts["accepted"] / elapsed
    print(f"receipt derivation (Argon2id {RECEIPT.opslimit} passes, "
          f"{RECEIPT.memlimit // 2**20} MiB): {per_derivation * 1000:.0f} ms; {cores} cores: "
          f"limit {limit:.2f} disclosures/s")
    print(f"{CLIENTS} concurrent clients for {elapsed:.0f} s: {counts['accepted']} accepted "
          f"({rate:.2f}/s), {counts['busy']} busy (503), {counts['other']} other")
    print(f"disclosures per second / Argon2id limit: {rate / limit:.2f}")
    return 0 if counts["other"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
