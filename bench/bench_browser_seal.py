"""Sealing in the discloser's browser (static/seal/portal-crypto.js, issue 27) against the Python
crypto/ on the same bytes, in the same run: node as a stand-in for the browser's engine, normal and
with --jitless (no JIT, no WebAssembly: Tor Browser's "Safer" level).

Prints: file-blob encryption throughput of JS (normal, jitless) as a ratio of crypto.encrypt_stream
on the same bytes (CPU time, best of ROUNDS; the Python side is libsodium in C, so the ratio is far
below 1 and only its trend matters); sealing a disclosure (5 fields, 4 sealed case keys) likewise;
the receipt derivation at the shipped Argon2id parameters (RECEIPT_PARAMS) at jitless and normal,
in seconds and as a ratio to Python's derive_receipt_identity (target at jitless: <= 10 s, the
issue's "too slow without JIT" line); and node's peak memory encrypting 50 and 200 MiB (flat).
BENCH_BYTES overrides the 200 MiB of the normal run (jitless encrypts a sixteenth of it).
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
    RECEIPT_PARAMS,
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


def main() -> None:
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

    params = (str(RECEIPT_PARAMS.opslimit), str(RECEIPT_PARAMS.memlimit))
    salt, receipt = new_install_salt(), new_receipt()
    w = time.perf_counter()
    derive_receipt_identity(receipt, salt, RECEIPT_PARAMS)
    py_wall = time.perf_counter() - w
    for label, jitless in (("normal", False), ("jitless", True)):
        got = js("receipt", *params, jitless=jitless)
        print(f"receipt derivation at RECEIPT_PARAMS (ops {params[0]}, {RECEIPT_PARAMS.memlimit // MiB} MiB),"
              f" JS {label}: {got['wall']:.2f} s, ratio to Python's {py_wall:.2f} s: {got['wall'] / py_wall:.1f}"
              + (f" (target at jitless <= 10 s){'' if got['wall'] <= 10 else '  MISSED'}" if jitless else ""))

    for n in (size // 4, size):
        rss = js("stream", str(n), stdin=block)["peakRss"] / MiB
        print(f"peak memory (node RSS) encrypting {n / MiB:.0f} MiB in 64 KiB pieces: {rss:.1f} MiB"
              " (flat: the same at both sizes)")


if __name__ == "__main__":
    main()
