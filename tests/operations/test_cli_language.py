"""The command line speaks the operator's language (issue 28; portal/cli/words.py): run under the
pseudo-locale (tests/support/pseudo_locale.py: every string of the catalogue accented and wrapped
in ⟦ ⟧), every line a command writes for a person is translated, errors and prompts among them;
what a script reads off a line (`totp: SECRET`, `manifest sha256: ...`, dates) stays as it is."""
from __future__ import annotations

import json
import re
import shutil

import nacl.signing
import pytest
from click.testing import CliRunner

import tests.support.pseudo_locale as pseudo_locale
from portal.cli import main as portal_cli
from portal.cli.words import cli_language
from tests.support import ROOT
from tests.web.test_pseudo_locale import _outside

PASSPHRASE = "a long enough passphrase\n"
# The lines kept for machines, whatever the language (docs/translating.md).
MACHINE = re.compile(
    r"totp: [A-Z2-7]+|enrolment link: \S+|manifest sha256: [0-9a-f]{64}|archive sha256: [0-9a-f]{64}"
    r"|fingerprint: \S+|pd-archive-public-1:\S+|^(NOT VERIFIED|verified): "
)


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
            if re.search(r"[A-Za-z]{3,}", MACHINE.sub("", _outside(line.strip())))]


def _written(runs) -> list[str]:
    return [line for r in runs for line in (r.stdout + r.stderr).splitlines() if line.strip()]


def _refusals_say_error_translated(runs) -> None:
    """Each refusal (exit 1) starts with "Error:" in the pseudo-locale, and what follows it is
    translated too (the line check counts a translated sentence whole)."""
    error = pseudo_locale.transform("Error: %(message)s").split("%")[0]
    refused = [r.stderr[:len(error) + 1] for r in runs if r.exit_code == 1]
    assert refused == [error + "⟦"] * len(refused)


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
    written = _written(runs)
    assert len(written) >= 18
    report = _untranslated("\n".join(written))
    assert report == [], "\n".join(report)
    _refusals_say_error_translated(runs)
    assert re.search(r"^totp: [A-Z2-7]{32}$", runs[4].stdout, re.M)
    assert re.search(r"^enrolment link: \S*/console/enrol/\S+$", runs[6].stdout, re.M)


def test_the_release_key_and_signed_bundle_commands_speak_the_operators_language(pseudo, tmp_path):
    seal, key = tmp_path / "static" / "seal", tmp_path / "release.key"
    shutil.copytree(ROOT / "static" / "seal", seal)
    roots = tmp_path / "roster-roots.json"
    roots.write_text(json.dumps({"1": bytes(nacl.signing.SigningKey.generate().verify_key).hex()}))
    none = tmp_path / "none"
    sign = ("sign-bundle", "--key", str(key), "--roots", str(roots), "--seal-dir", str(seal))
    verify = ("verify-bundle", "--seal-dir", str(seal), "--public-key", f"{key}.pub")
    runs = [
        _run(pseudo, none, "bundle-key", "new", "--out", str(key)),
        _run(pseudo, none, "bundle-key", "new", "--out", str(key)),  # refused: never overwritten
        _run(pseudo, none, *sign, "--webcat-out", str(tmp_path / "webcat")),
        _run(pseudo, none, *verify),
        _run(pseudo, none, "verify-bundle", "--seal-dir", str(seal)),  # no key: compare
        _run(pseudo, none, "verify-bundle", "--seal-dir", str(seal), "--public-key", "f00"),
    ]
    (seal / "added.js").write_text("export const x = 1;\n")
    runs.append(_run(pseudo, none, *verify))  # not verified: a file added
    runs.append(_run(pseudo, none, "sign-bundle", "--key", str(roots), "--roots", str(roots),
                     "--seal-dir", str(seal)))  # refused: no release key
    assert [r.exit_code for r in runs] == [0, 1, 0, 0, 0, 3, 1, 1]
    written = _written(runs)
    assert len(written) >= 10
    report = _untranslated("\n".join(written))
    assert report == [], "\n".join(report)
    _refusals_say_error_translated(runs[:6] + runs[7:])  # runs[6] exits 1 with its verdict
    # The verdict words stay for scripts; what follows them is the operator's.
    assert re.search(r"^verified: ⟦", runs[3].stdout, re.M)
    assert re.search(r"^NOT VERIFIED: ⟦", runs[6].stderr, re.M)


def test_an_organisation_leaving_and_coming_back_speaks_the_operators_language(pseudo, tmp_path):
    service, kept, archive = tmp_path / "service", tmp_path / "archive.key", tmp_path / "org.archive"
    other = tmp_path / "other"
    at = ("--service", str(service))
    setup = [
        _run(pseudo, tmp_path, "service", "init", str(service), "--insecure-fast-kdf"),
        _run(pseudo, tmp_path, "org", "create", "north", "--name", "North", *at,
             "--insecure-fast-kdf"),
        _run(pseudo, tmp_path, "service", "init", str(other), "--insecure-fast-kdf"),
    ]
    made = _run(pseudo, tmp_path, "org", "archive-key", "--out", str(kept))
    public = made.stdout.splitlines()[-1]
    runs = setup + [
        made,
        _run(pseudo, tmp_path, "org", "archive-key", "--out", str(kept)),  # refused: there already
        _run(pseudo, tmp_path, "org", "backup", "north", "--to", str(archive),
             "--archive-public-key", public, *at),
        _run(pseudo, tmp_path, "org", "backup", "nobody", "--to", str(tmp_path / "x"),
             "--archive-public-key", public, *at),  # refused: the domain's words
        _run(pseudo, tmp_path, "org", "erase", "north", *at, "--yes"),  # refused: neither given
        _run(pseudo, tmp_path, "org", "erase", "north", *at, input="n\n"),  # asked, and no
        _run(pseudo, tmp_path, "org", "erase", "north", "--archive", str(archive),
             "--archive-key", str(kept), *at, "--yes"),
        _run(pseudo, tmp_path, "org", "restore", "--from", str(archive), "--service", str(other)),
        _run(pseudo, tmp_path, "org", "restore", "--from", str(archive), "--archive-key", str(kept),
             "--service", str(other)),
    ]
    assert [r.exit_code for r in runs] == [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0]
    # "Aborted!" after a "no" is click's own word, not wrapped (docs/translating.md).
    written = [line for line in _written(runs) if line != "Aborted!"]
    assert len(written) >= 14
    report = _untranslated("\n".join(written))
    assert report == [], "\n".join(report)
    _refusals_say_error_translated([r for r in runs if "Aborted" not in r.stderr])
    assert re.search(r"^archive sha256: [0-9a-f]{64}$", runs[5].stdout, re.M)
    assert public.startswith("pd-archive-public-1:")


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


def test_the_demo_and_the_backups_refusals_speak_the_operators_language(pseudo, tmp_path):
    # Issue 28's review: `portal demo`'s lines and `demo code`'s, and portal.operations.backup's
    # refusals (BackupError, passed on by `portal backup` and `restore`).
    data, copy = tmp_path / "demo", tmp_path / "copy"
    runs = [
        _run(pseudo, data, "init", "--insecure-fast-kdf"),
        _run(pseudo, data, "demo", "--port", "0"),
        _run(pseudo, data, "demo", "code"),
        _run(pseudo, data, "backup", str(copy)),
        _run(pseudo, data, "backup", str(copy)),  # refused: not empty
        _run(pseudo, tmp_path / "new", "restore", str(tmp_path)),  # refused: no backup folder
    ]
    (copy / "manifest.json").unlink()
    runs.append(_run(pseudo, tmp_path / "new", "restore", str(copy)))  # refused: incomplete
    assert [r.exit_code for r in runs] == [0, 0, 0, 0, 1, 1, 1]
    # The printed credentials are for a person to copy, as they are.
    credentials = re.compile(r"^\s+(passphrase: |totp secret: )\s*\S+$")
    written = [line for line in _written(runs) if not credentials.match(line)]
    assert len(written) >= 20 and sum(1 for line in _written(runs) if credentials.match(line)) == 6
    report = _untranslated("\n".join(written))
    assert report == [], "\n".join(report)
    _refusals_say_error_translated(runs)
    assert "Demo integrity team" in runs[1].stdout and "@demo.example" in runs[2].stdout
