"""A benchmark's data must be data the portal could have made (issue 23): an installation built by
bench/bench_queue.py passes `portal audit verify`."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from click.testing import CliRunner

from portal.cli import main as portal_cli

ROOT = Path(__file__).resolve().parents[2]


def test_a_benchmark_built_installation_passes_audit_verify(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_queue", ROOT / "bench" / "bench_queue.py")
    bench_queue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_queue)
    data_dir = tmp_path / "bench"
    bench_queue.build(data_dir, 12)
    result = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify"])
    assert result.exit_code == 0, result.output
