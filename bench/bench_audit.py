"""2,000 audit entries in one transaction against the same 2,000 without the audit head (issue 23).

Both runs use the portal's own audit.record inside one store transaction on a fast-KDF installation;
the baseline replaces the head file's write with nothing, so the ratio is what the head costs. The
goal is at most 2 (the head is written once per transaction, not once per entry). Median of ROUNDS.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.core.context import open_context  # noqa: E402
from portal.records import audit  # noqa: E402
from portal.store import transaction  # noqa: E402
from tests.conftest import run_cli  # noqa: E402

ENTRIES = 2000
ROUNDS = 5


def one_run(ctx) -> float:
    started = time.perf_counter()
    with transaction(ctx.db):
        for n in range(ENTRIES):
            audit.record(ctx, "case_view", actor=1, detail={"n": n})
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        run_cli(data_dir, "init", "--insecure-fast-kdf")
        ctx = open_context(data_dir)
        real = audit.write_head
        with_head, without = [], []
        for _ in range(ROUNDS):
            with_head.append(one_run(ctx))
            audit.write_head = lambda *args: None
            try:
                without.append(one_run(ctx))
            finally:
                audit.write_head = real
        a, b = statistics.median(with_head), statistics.median(without)
        print(f"{ENTRIES} entries in one transaction: {a * 1000:.1f} ms with the head,"
              f" {b * 1000:.1f} ms without")
        print(f"ratio {a / b:.2f} (goal at most 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
