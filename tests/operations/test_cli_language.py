"""The command line speaks the operator's language (issue 28; portal/cli/words.py): run under the
pseudo-locale (tests/support/pseudo_locale.py: every string of the catalogue accented and wrapped
in ⟦ ⟧), every line a command writes for a person is translated, errors and prompts among them;
what a script reads off a line (`totp: SECRET`, `manifest sha256: ...`, dates) stays as it is."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import tests.support.pseudo_locale as pseudo_locale
from portal.cli import main as portal_cli
from portal.cli.words import cli_language
from tests.web.test_pseudo_locale import _outside

PASSPHRASE = "a long enough passphrase\n"
# The lines kept for machines, whatever the language (docs/translating.md).
MACHINE = re.compile(r"totp: [A-Z2-7]+|enrolment link: \S+|manifest sha256: [0-9a-f]{64}")


@pytest.fixture(scope="module")
def pseudo(tmp_path_factory):
    return pseudo_locale.build(tmp_path_factory.mktemp("catalogues"), "eo")


def _run(pseudo, data_dir, *args, input=None, language="eo"):
    env = {"PORTAL_LANGUAGE": language, "PORTAL_TRANSLATIONS": str(pseudo)}
    return CliRunner().invoke(portal_cli, ["--data", str(data_dir), *args], input=input, env=env)


def _untranslated(text: str) -> list[str]:
    """Each line with letters outside ⟦ ⟧ (a translated phrase inside a translated sentence
    counted whole) that is not a machine's line."""
    return [line for line in text.splitlines()
            if re.search(r"[A-Za-z]{3,}", MACHINE.sub("", _outside(line)))]


def test_every_line_a_command_writes_for_the_operator_is_translated(pseudo, tmp_path):
    data = tmp_path / "inst"
    runs = [
        _run(pseudo, data, "init", "--insecure-fast-kdf"),
        _run(pseudo, data, "init"),  # refused: already initialised
        _run(pseudo, data, "channel", "add", "Audit"),
        _run(pseudo, data, "channel", "add", "Audit"),  # refused: the domain's words
        _run(pseudo, data, "officer", "add", "--email", "o@x.govt.nz", "--name", "O Fficer",
             "--channel", "Audit", "--passphrase-stdin", input=PASSPHRASE),
        _run(pseudo, data, "officer", "add", "--email", "p@x.govt.nz", "--name", "P Other",
             "--channel", "Nope", "--passphrase-stdin", input=PASSPHRASE),
        _run(pseudo, data, "officer", "invite", "--email", "q@x.govt.nz", "--name", "Q Invited",
             "--channel", "Audit"),
        _run(pseudo, data, "channel", "retention", "Audit", "--years", "8"),
        _run(pseudo, data, "setting", "set", "security_contact", "security@x.govt.nz"),
        _run(pseudo, data, "audit", "verify"),
        _run(pseudo, data, "under-way"),
        _run(pseudo, data, "retention", "carry-on"),
        _run(pseudo, data, "backup", str(tmp_path / "backup")),
        _run(pseudo, tmp_path / "none", "channel", "add", "X"),  # not initialised
        _run(pseudo, data, "officer", "rotate-key"),  # moved to the console
    ]
    assert [r.exit_code for r in runs] == [0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    written = [line for r in runs for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    assert len(written) >= 18
    report = _untranslated("\n".join(written))
    assert report == [], "\n".join(report)
    # The refusals say "Error:" in the operator's language too, and what follows it (the check
    # above counts a translated sentence whole, so it is checked here).
    error = pseudo_locale.transform("Error: %(message)s").split("%")[0]
    assert [r.stderr[:len(error) + 1] for r in runs if r.exit_code == 1] == [error + "⟦"] * 4
    assert re.search(r"^totp: [A-Z2-7]{32}$", runs[4].stdout, re.M)
    assert re.search(r"^enrolment link: \S*/console/enrol/\S+$", runs[6].stdout, re.M)


def test_english_is_the_words_of_the_catalogue_and_other_languages_fall_back_to_it(pseudo, tmp_path):
    data = tmp_path / "inst"
    for language in ("en", "xx", "C"):
        shown = _run(pseudo, data / language, "init", "--insecure-fast-kdf", language=language)
        assert shown.stdout == f"Initialised {data / language}.\n"


def test_the_language_is_the_operators_setting_then_their_shells_locale(monkeypatch):
    for name in ("PORTAL_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    assert cli_language() == "en"
    monkeypatch.setenv("LANG", "mi_NZ.UTF-8")
    assert cli_language() == "mi_NZ"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # "C" says no language: the next one is read
    assert cli_language() == "mi_NZ"
    monkeypatch.setenv("PORTAL_LANGUAGE", "eo")
    assert cli_language() == "eo"
