"""Disclosures per second and the inbox's latency at 100,000 cases on PostgreSQL, as a ratio of the
same on SQLite, in one run (issue 30).

One installation of CASES genuinely sealed cases (tests/support/bench_build.py: the portal's own
intake function, many cases to a transaction, a fast key derivation) is built on SQLite, copied, and
the copy moved into a throwaway PostgreSQL server with `portal migrate-to` (timed: the migration at
this size is a figure too), its portal.db and blob files then removed. The PostgreSQL server runs
with fsync on, as SQLite commits with synchronous=FULL, on the same disk.

Each installation is served by `portal serve` (2 workers) and measured over real HTTP, the two
alternating in rounds so that a shared machine's load slows both alike:
- disclosures per second: DISCLOSURES text-only disclosures sent one after another (the page read,
  its proof of work solved as its script would, the form posted), in rounds of ROUND;
- inbox latency: the signed-in officer's first inbox page, median of INBOX_ROUNDS.
Each is printed with the ratio PostgreSQL / SQLite, and the load average before and after.

    python bench/bench_postgres.py [--cases N]     (BENCH_POSTGRES_CASES, default 100,000)
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import Officer, run_cli  # noqa: E402
from tests.store.postgres_server import PostgresServer  # noqa: E402
from tests.support import HttpClient, csrf_token, disclosure_fields, start_server  # noqa: E402
from tests.support.bench_build import build  # noqa: E402
from tests.support.proofs import solved  # noqa: E402

CASES = int(os.environ.get("BENCH_POSTGRES_CASES", 100_000))
DISCLOSURES = int(os.environ.get("BENCH_POSTGRES_DISCLOSURES", 50))
ROUND = 10
INBOX_ROUNDS = int(os.environ.get("BENCH_POSTGRES_INBOX_ROUNDS", 15))
OUT = ROOT / "bench" / "out"


def disclose(http: HttpClient) -> float:
    """One disclosure as a browser sends it; seconds from reading the form to the receipt page."""
    started = time.perf_counter()
    page = http.get("/disclose").text
    http.cookies.pop("__Host-pd_ticket_disclose", None)  # the script's proof, not the line's ticket
    fields = disclosure_fields(csrf_token(page), "A benchmark disclosure.") + solved(page)
    response = http.post_multipart("/disclose", fields)
    assert response.status == 200, response.text[:300]
    return time.perf_counter() - started


def signed_in(port: int, officer: Officer) -> HttpClient:
    http = HttpClient("127.0.0.1", port)
    page = http.get("/console/login").text
    answer = http.post_form("/console/login", {
        "csrf_token": csrf_token(page), "email": officer.email, "passphrase": officer.passphrase,
        "totp": officer.code()})
    assert answer.status == 303, answer.text[:300]
    return http


def inbox(http: HttpClient) -> float:
    started = time.perf_counter()
    response = http.get("/console/")
    assert response.status == 200 and 'data-ref="' in response.text
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=CASES)
    cases = parser.parse_args().cases
    os.environ.pop("PORTAL_DATABASE_URL", None)  # the SQLite side's, and the build's
    scratch = OUT / "postgres-scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    database = PostgresServer().start(fsync=True)
    servers = []
    try:
        started = time.perf_counter()
        on_sqlite = scratch / "sqlite"
        ana, _ = build(on_sqlite, cases, say=lambda line: print(line, flush=True))
        built = time.perf_counter() - started
        on_postgres = scratch / "postgres"
        shutil.copytree(on_sqlite, on_postgres)
        url = database.database("portal")
        started = time.perf_counter()
        print(run_cli(on_postgres, "migrate-to", url).output.splitlines()[0], flush=True)
        migrated = time.perf_counter() - started
        for path in [*on_postgres.glob("portal.db*"), *(on_postgres / "blobs").iterdir()]:
            path.unlink()

        engines = {"SQLite": start_server(on_sqlite),
                   "PostgreSQL": start_server(on_postgres, env={"PORTAL_DATABASE_URL": url})}
        servers = list(engines.values())
        clients = {name: HttpClient("127.0.0.1", server.port) for name, server in engines.items()}
        officers = {name: signed_in(server.port, Officer(ana.email, ana.name, ana.passphrase,
                                                         ana.totp_secret, ana.last_step))
                    for name, server in engines.items()}
        for name in engines:  # warm: each worker's first requests open what later ones reuse
            for _ in range(4):
                disclose(clients[name])
                inbox(officers[name])
        load_before = os.getloadavg()[0]
        sent = {name: 0.0 for name in engines}
        for _ in range(DISCLOSURES // ROUND):
            for name in engines:
                sent[name] += sum(disclose(clients[name]) for _ in range(ROUND))
        latencies: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(INBOX_ROUNDS):
            for name in engines:
                latencies[name].append(inbox(officers[name]))
        load_after = os.getloadavg()[0]
    finally:
        for server in servers:
            server.stop()
        database.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    count = DISCLOSURES // ROUND * ROUND
    rate = {name: count / seconds for name, seconds in sent.items()}
    median = {name: statistics.median(times) for name, times in latencies.items()}
    print(f"PostgreSQL against SQLite at {cases} cases (built in {built:.0f} s, moved to PostgreSQL"
          f" by portal migrate-to in {migrated:.0f} s); load average {load_before:.1f} before,"
          f" {load_after:.1f} after, on {os.cpu_count()} cores")
    figures = ((f"disclosures per second ({count} each, one at a time)", rate, 1, ""),
               (f"inbox first page (median of {INBOX_ROUNDS})", median, 1000, " ms"))
    for what, by_engine, scale, unit in figures:
        sqlite, postgresql = by_engine["SQLite"], by_engine["PostgreSQL"]
        print(f"  {what}: SQLite {sqlite * scale:.1f}{unit}, PostgreSQL {postgresql * scale:.1f}"
              f"{unit}: ratio PostgreSQL / SQLite {postgresql / sqlite:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
