"""bench/bench_long_cases.py runs (review M3: it crashed once portal_context passed a busy timeout to
the connection it wraps), and at a small size prints the same number of SQL statements for a page at
one message as at many."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from portal.web import context as web_context

ROOT = Path(__file__).resolve().parents[2]


def test_the_long_case_benchmark_runs_and_its_pages_run_a_fixed_number_of_statements(
        monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("bench_long_cases", ROOT / "bench" / "bench_long_cases.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(web_context, "connect", web_context.connect)  # main() wraps it: put back after
    monkeypatch.setattr(bench, "LONG", 40)
    monkeypatch.setattr(bench, "FILES", 2)
    monkeypatch.setattr(bench, "ROUNDS", 1)
    assert bench.main() == 0
    printed = capsys.readouterr().out
    counts = re.findall(r"\((\d+) SQL statements\), .* at 40 \((\d+) SQL statements\)", printed)
    assert len(counts) == 2, printed  # the officer's case page and the discloser's status page
    assert all(short == long for short, long in counts), printed
    assert "worst ratio" in printed
