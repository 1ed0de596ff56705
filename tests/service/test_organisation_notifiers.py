"""Each organisation's notifier (issue 29): `portal service serve` keeps one `portal notify
--keep-running` for every organisation with an SMTP server set, through the keeper's refresh
(portal.service.notifiers), so an organisation made, or given an SMTP server, while the service
runs gets its own without a restart, and an erased one's stops. Counted, with real notifiers."""
from __future__ import annotations

from portal.service.notifiers import Notifiers
from portal.service.registry import data_dir_of
from tests.conftest import run_cli
from tests.service.test_organisations import make_service, portal


def with_smtp(service, slug):
    run_cli(data_dir_of(service, slug), "setting", "set", "smtp_host", "127.0.0.1")


def test_an_organisation_made_while_the_service_runs_gets_its_notifier_at_once(tmp_path):
    service = make_service(tmp_path)  # a and b
    with_smtp(service, "a")
    notifiers = Notifiers(service)
    try:
        assert notifiers.refresh() == ["a"]  # b has no SMTP server set: no notifier
        first = notifiers.running["a"]
        # Made while the service runs, with an SMTP server: started at the next refresh, once.
        made = portal("org", "create", "c", "--name", "Council C", "--service", str(service), "--insecure-fast-kdf")
        assert made.exit_code == 0, made.output
        with_smtp(service, "c")
        assert notifiers.refresh() == ["c"]
        with_smtp(service, "b")
        assert notifiers.refresh() == ["b"]
        assert notifiers.refresh() == []
        assert sorted(notifiers.running) == ["a", "b", "c"] and notifiers.running["a"] is first
        assert all(notifier.poll() is None for notifier in notifiers.running.values())
        # An erased organisation's notifier stops; one that ended is started again.
        gone = notifiers.running["c"]
        erased = portal("org", "erase", "c", "--disposal-authority", "DA 734", "--yes", "--service", str(service))
        assert erased.exit_code == 0, erased.output
        notifiers.running["b"].terminate()
        notifiers.running["b"].wait(10)
        assert notifiers.refresh() == ["b"]
        assert sorted(notifiers.running) == ["a", "b"] and gone.poll() is not None
    finally:
        notifiers.stop()
    assert notifiers.running == {}
