"""`portal service serve DIR`: gunicorn serving every organisation of a service directory under
/o/<slug>/ and the operator's pages under /service/ (dispatch.py), with the same hardened workers,
logging and slow-client limits as `portal serve` (portal.web.server)."""

from __future__ import annotations

from pathlib import Path

from portal.core.config import load_settings
from portal.service.notifiers import start_keeper
from portal.service.operator import ensure_operator_installation
from portal.service.registry import NOWHERE, data_dir_of, organisations
from portal.web.server import run


def organisation_dirs(service_dir: Path) -> list[Path]:
    """Every registered organisation's data directory, in the order made."""
    return [data_dir_of(service_dir, org.slug) for org in organisations(service_dir)]


def serve(service_dir: Path, host: str, port: int, workers: int = 2, threads: int = 8) -> None:
    """Serve the service until stopped. The slow-client limits are the service's own (those of
    its empty installation, DIR/nowhere); each organisation with an SMTP server set gets its
    notifier, as `portal serve` starts one, and one made later within seconds (notifiers.py).
    Raises ServiceError if `service_dir` is not a service."""
    service_dir = Path(service_dir)
    ensure_operator_installation(service_dir)

    def load(harden):
        from portal.service.dispatch import service_app  # in the worker, as gunicorn loads it

        return service_app(service_dir, harden)

    def data_dirs() -> list[Path]:
        return [service_dir / NOWHERE, *organisation_dirs(service_dir)]

    # The notifiers are the keeper's (notifiers.py), which starts one for each organisation that
    # wants one, made before the start or since.
    keeper = start_keeper(service_dir)
    try:
        run(
            load,
            data_dirs,
            load_settings(service_dir / NOWHERE),
            [],
            host,
            port,
            workers=workers,
            threads=threads,
        )
    finally:
        keeper.terminate()
        keeper.wait(10)
