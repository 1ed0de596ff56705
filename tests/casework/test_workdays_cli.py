"""`portal workdays add`, run as a separate process (docs/interface.md)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent


def portal(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PORTAL_DATA_DIR=str(tmp_path / "instance"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "portal", "workdays", "add", *args],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )


@pytest.mark.parametrize("args, expected", [
    # 20 working days across Christmas (worked out by hand in test_workdays.py).
    (("2024-12-10", "20"), "2025-01-16"),
    (("2024-12-10", "20", "--calendar", "legislation"), "2025-01-16"),
    (("2024-12-10", "20", "--calendar", "oia"), "2025-01-29"),
    (("--calendar", "oia", "2024-12-10", "20"), "2025-01-29"),
    (("2024-12-10", "20", "--calendar", "calendar"), "2024-12-30"),
    # From a Saturday, over King's Birthday.
    (("2024-06-01", "1"), "2024-06-04"),
    (("2024-06-01", "0"), "2024-06-01"),
])
def test_add_prints_the_date(args: tuple[str, ...], expected: str, tmp_path: Path) -> None:
    result = portal(*args, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected + "\n"
    assert result.stderr == ""
    assert not (tmp_path / "instance").exists()  # arithmetic needs no data directory


@pytest.mark.parametrize("args, message", [
    (("2024-02-30", "5"), "YYYY-MM-DD"),
    (("10/12/2024", "5"), "YYYY-MM-DD"),
    (("20241210", "5"), "YYYY-MM-DD"),
    (("tomorrow", "5"), "YYYY-MM-DD"),
    (("2024-12-10", "five"), "whole number"),
    (("2024-12-10", "1.5"), "whole number"),
    (("2024-12-10", ""), "whole number"),
    (("2024-12-10", "-3"), "negative"),
    (("2024-12-10", "5", "--calendar", "business"), "business"),
    (("2010-06-01", "5"), "2010"),
    (("2053-06-01", "5", "--calendar", "oia"), "2053"),
    (("2052-12-20", "20"), "2053"),
    (("9999-12-31", "1", "--calendar", "calendar"), "9999"),
    (("2024-12-10",), "N"),
])
def test_bad_input_exits_2_with_a_message(args: tuple[str, ...], message: str,
                                          tmp_path: Path) -> None:
    result = portal(*args, tmp_path=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_year_message_says_why(tmp_path: Path) -> None:
    result = portal("2021-03-01", "5", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "2021" in result.stderr and "Matariki" in result.stderr
