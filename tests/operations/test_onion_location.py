"""The Onion-Location header (docs/deploy.md, Tor onion service): off by default, switched on by the
`onion_address` setting, pointing at the same page on the onion service."""
from __future__ import annotations

from click.testing import CliRunner

from portal.web.app import create_app
from portal.cli import main as portal_cli
from tests.conftest import run_cli

ONION = "pd" + "a" * 54 + ".onion"


def test_no_header_until_the_setting_is_set_then_every_page_points_at_the_onion_service(installation):
    client = create_app(installation.data_dir).test_client()
    assert "Onion-Location" not in client.get("/").headers

    run_cli(installation.data_dir, "setting", "set", "onion_address", ONION.upper())
    client = create_app(installation.data_dir).test_client()
    assert client.get("/").headers["Onion-Location"] == f"http://{ONION}/"
    assert client.get("/status?x=1").headers["Onion-Location"] == f"http://{ONION}/status?x=1"
    assert client.get("/console/login").headers["Onion-Location"] == f"http://{ONION}/console/login"


def test_an_address_that_is_not_a_v3_onion_is_refused(installation):
    result = CliRunner().invoke(portal_cli, ["--data", str(installation.data_dir), "setting", "set",
                                             "onion_address", "example.com"])
    assert result.exit_code != 0 and "v3 onion address" in result.output
    assert "Onion-Location" not in create_app(installation.data_dir).test_client().get("/").headers
