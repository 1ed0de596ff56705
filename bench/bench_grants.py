"""Giving an officer every case of a channel at 100,000 cases against 10,000, in one run (issue 23).

Each installation is built by tests/support/bench_build.py (the portal's own intake function, many
cases to a transaction; tests/keys/test_bench_installation.py checks that such an installation passes
`portal audit verify`); the large one is kept under bench/out/ while the schema and the builder are
unchanged, and copied before each run (a grant changes it). Then, on each:

- a child process makes disclosures through the app (Flask's test client) while nothing else runs:
  their median time is the idle baseline;
- the first officer gives the second every case of the channel (portal.keys.access.grant, the
  console's "every case" grant, run to its end), timed, with the length of every write transaction
  it runs taken from its connection's statement trace (BEGIN .. COMMIT);
- meanwhile the same child makes disclosures again, their median time against the idle one (at both
  sizes, so the two grants are timed alike; those disclosures reach both officers already).

Printed: the grant's time at each size and their ratio (goal: at most 12, linear), the longest write
transaction during the large grant (goal: under 1 s) and the disclosures' median during it against
idle (goal: at most 2). BENCH_GRANTS_LARGE / BENCH_GRANTS_SMALL change the sizes.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.core.context import open_context  # noqa: E402
from portal.keys import access, accounts, credentials  # noqa: E402
from tests.support import bench_build  # noqa: E402

LARGE = int(os.environ.get("BENCH_GRANTS_LARGE", 100_000))
SMALL = int(os.environ.get("BENCH_GRANTS_SMALL", 10_000))
IDLE_DISCLOSURES = 15
OUT = ROOT / "bench" / "out"
BUILDER_VERSION = "1"  # raise when the builder changes: the cached installation is rebuilt

# The child: disclosures through the app, one after another, each one's seconds printed as it goes in;
# with a stop file, until the file exists, else `count` of them.
CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from portal.web.app import create_app
from tests.support.workflow import disclose_to
data_dir, count, stop = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
app = create_app(data_dir)
app.config.update(TESTING=True)
done = 0
while (done < count) if count else not stop.exists():
    client = app.test_client()
    started = time.perf_counter()
    disclose_to(client, details=f"Made during the benchmark, number {done}.")
    print(json.dumps(time.perf_counter() - started), flush=True)
    done += 1
"""


def _fingerprint(count: int) -> str:
    migrations = sorted((ROOT / "portal" / "store" / "migrations").glob("*.py"))
    builder = ROOT / "tests" / "support" / "bench_build.py"
    parts = [BUILDER_VERSION.encode(), builder.read_bytes(), *(p.read_bytes() for p in migrations),
             str(count).encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def installation(count: int, scratch: Path) -> tuple[Path, dict]:
    """A fresh copy of the built installation of `count` cases and its two officers."""
    cached = OUT / f"grants-{count}"
    stamp = cached / "bench-grants.json"
    if not (stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == _fingerprint(count)):
        shutil.rmtree(cached, ignore_errors=True)
        cached.mkdir(parents=True)
        started = time.perf_counter()
        ana, cat = bench_build.build(cached / "data", count, say=lambda line: print(line, flush=True))
        officers = {"granter": [ana.email, ana.passphrase], "grantee": cat.email}
        stamp.write_text(json.dumps({"fingerprint": _fingerprint(count), "officers": officers}))
        print(f"   built {count} cases under {cached.relative_to(ROOT)} in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    copy = scratch / f"grants-{count}"
    shutil.copytree(cached / "data", copy)
    return copy, json.loads(stamp.read_text())["officers"]


def disclosures(data_dir: Path, count: int = 0, stop: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(data_dir), str(count),
                             str(stop or data_dir / "never")], stdout=subprocess.PIPE, text=True)


def times_of(child: subprocess.Popen) -> list[float]:
    out, _ = child.communicate(timeout=3600)
    if child.returncode:
        raise SystemExit(f"the disclosing process failed (exit {child.returncode})")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def grant_every_case(data_dir: Path, officers: dict, *, meanwhile: bool) -> dict:
    ctx = open_context(data_dir)
    email, passphrase = officers["granter"]
    granter = accounts.get_account_by_email(ctx, email)
    grantee = accounts.get_account_by_email(ctx, officers["grantee"])
    private_key = credentials.unwrap_with_passphrase(ctx, granter.id, passphrase)
    idle = statistics.median(times_of(disclosures(data_dir, IDLE_DISCLOSURES))) if meanwhile else None
    stamps: list[tuple[float, str]] = []
    ctx.db.conn.set_trace_callback(lambda sql: stamps.append((time.perf_counter(), sql)))
    stop = data_dir / "stop-disclosing"
    child = disclosures(data_dir, stop=stop) if meanwhile else None
    if child is not None:
        time.sleep(3)  # the child's start-up (imports, the app) is not a disclosure's time
    started = time.perf_counter()
    result = access.grant(ctx, granter, private_key, grantee.id, bench_build.CHANNEL)
    seconds = time.perf_counter() - started
    ctx.db.conn.set_trace_callback(None)
    during = []
    if child is not None:
        stop.touch()
        during = times_of(child)
    longest, begun = 0.0, None
    for at, sql in stamps:
        text = sql.strip().upper()
        if text.startswith("BEGIN"):
            begun = at
        elif text in ("COMMIT", "ROLLBACK") and begun is not None:
            longest, begun = max(longest, at - begun), None
    shared = len(result.granted) + result.already
    return {"seconds": seconds, "shared": shared, "longest": longest, "idle": idle,
            "during": statistics.median(during) if during else None, "disclosures": len(during)}


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    scratch = OUT / "scratch-grants"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        figures = {}
        for count in (SMALL, LARGE):
            data_dir, officers = installation(count, scratch)
            figures[count] = grant_every_case(data_dir, officers, meanwhile=True)
            print(f"   grant of every case at {count}: {figures[count]['seconds']:.1f} s for "
                  f"{figures[count]['shared']} cases; longest write transaction "
                  f"{figures[count]['longest'] * 1000:.0f} ms", flush=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    small, large = figures[SMALL], figures[LARGE]
    ratio = large["seconds"] / small["seconds"]
    slowdown = large["during"] / large["idle"]
    print(f"grant every case: {LARGE} cases {large['seconds']:.1f} s / {SMALL} cases "
          f"{small['seconds']:.1f} s = ratio {ratio:.2f} (goal <= {12 * LARGE / SMALL / 10:.0f}; "
          f"linear is {LARGE / SMALL:.0f})")
    print(f"longest write transaction during the grant of {LARGE}: {large['longest'] * 1000:.0f} ms "
          f"(goal < 1000 ms)")
    print(f"disclosure during the grant: median {large['during'] * 1000:.0f} ms over "
          f"{large['disclosures']} / idle {large['idle'] * 1000:.0f} ms = ratio {slowdown:.2f} (goal <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
