"""The operator's documentation lives in the repository and stays true to the code: every command is in
docs/interface.md, every environment setting in docs/configuration.md, the shipped service unit matches
the shipped nginx configuration, and nothing points outside the repository."""
from __future__ import annotations

import configparser
import re

import click

from portal.cli import main as portal_cli
from tests.support import ROOT


def _commands(group: click.Group, prefix: str = "portal") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                found.append(f"{prefix} {name}")
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_readme_and_docs_stand_alone():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "../shared" not in path.read_text(), path
    for name in ("interface.md", "configuration.md", "deploy.md"):
        assert (ROOT / "docs" / name).is_file()


def test_every_command_is_documented_in_the_interface():
    interface = (ROOT / "docs" / "interface.md").read_text()
    missing = [command for command in _commands(portal_cli) if f"`{command}" not in interface]
    assert missing == []


def test_every_environment_setting_is_documented():
    source = (ROOT / "portal" / "core" / "config.py").read_text() + (ROOT / "portal" / "web" / "server.py").read_text()
    names = set(re.findall(r'"(PORTAL_[A-Z_]+)"', source)) - {"PORTAL_DATA_DIR"}
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    assert sorted(name for name in names if name not in configuration) == []


def test_the_service_unit_serves_where_nginx_forwards_with_private_files():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "deploy" / "systemd" / "portal.service")
    service = unit["Service"]
    assert service["UMask"] == "0077" and service["StateDirectoryMode"] == "0700"
    assert service["User"] == "portal" and service["NoNewPrivileges"] == "yes"
    start = service["ExecStart"]
    data_dir = re.search(r"--data (\S+)", start).group(1)
    assert service["ReadWritePaths"] == data_dir
    listen = re.search(r"serve --host (\S+) --port (\d+)", start)
    upstream = re.search(r"upstream portal \{\s*server ([\d.]+):(\d+);",
                         (ROOT / "deploy" / "nginx" / "portal-site.conf").read_text())
    assert listen.groups() == upstream.groups() == ("127.0.0.1", "8080")
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    for path in sorted((ROOT / "deploy").rglob("*")):
        if path.is_file():
            assert path.name in deploy, f"{path} is not described in docs/deploy.md"
