"""`portal setting set` for the proof of work's bits says what takes effect, and refuses a value
that would not (issue 22, fresh review M4: `pow_bits 16` was cut to 14 without a word)."""
from __future__ import annotations

import json

from click.testing import CliRunner

from portal.cli import main
from portal.web.app import create_app
from tests.conftest import run_cli
from tests.support.proofs import bits_of, challenge_from


def _set(installation, name, value):
    return CliRunner().invoke(main, ["--data", str(installation.data_dir), "setting", "set", name, value])


def _asked(installation) -> int:
    app = create_app(installation.data_dir)
    app.config["TESTING"] = True
    return bits_of(challenge_from(app.test_client().get("/disclose").text))


def test_pow_bits_above_what_takes_effect_is_refused_saying_what_does(installation):
    before = json.loads((installation.data_dir / "installation.json").read_text())
    refused = _set(installation, "pow_bits", "16")
    # The shipped cap, 17 bits, less the reserved lane's 2 and its spare bit.
    assert refused.exit_code == 2 and "would ask at most 14 bits" in refused.output
    assert json.loads((installation.data_dir / "installation.json").read_text()) == before
    assert _set(installation, "pow_max_bits", "20").exit_code == 2

    taken = run_cli(installation.data_dir, "setting", "set", "pow_bits", "14")
    assert "asked at most 14 bits" in taken.output
    assert _asked(installation) == 14  # what it said is what a page asks
    # Raising the cap first makes room, as the refusal says.
    run_cli(installation.data_dir, "setting", "set", "pow_script_max_bits", "19")
    assert "asked at most 16 bits" in run_cli(installation.data_dir, "setting", "set", "pow_bits", "16").output
    assert _asked(installation) == 16


def test_the_flood_proof_says_it_is_asked_at_most_the_scripts_cap(installation):
    said = run_cli(installation.data_dir, "setting", "set", "pow_flood_bits", "20")
    assert "asked at most 17 bits" in said.output
