"""The service operator (issue 29, docs/organisations.md): an installation of the service's own,
`DIR/operator/`, made as `portal init` makes one, that holds the operators' accounts (passphrase and
second factor, as any account: portal.keys.provisioning) and the service-level audit chain (the
installation's own: portal.records.audit). It holds no channel and no case, and nothing of any
organisation but what the audit entries name: slugs and roles.

What an operator does is audited there: signing in (portal.keys.officer_sessions, as for anyone),
an organisation made and an invitation issued (`record`, from the command line)."""

from __future__ import annotations

from pathlib import Path

from portal.core.context import open_context
from portal.core.installation_file import INSTALLATION_FILE
from portal.keys.accounts import Account
from portal.keys.provisioning import add_account
from portal.operations.installing import make_installation
from portal.records import audit

OPERATOR = "operator"
# An operator's account is an administrator's of the operator installation: it signs in as one,
# and that installation has nothing else to administer.
OPERATOR_ROLE = "admin"


def operator_dir(service_dir: Path) -> Path:
    """The operator installation's data directory."""
    return Path(service_dir) / OPERATOR


def ensure_operator_installation(service_dir: Path, *, insecure_fast_kdf: bool = False) -> Path:
    """Make the operator installation if it is not there (a service made before it existed);
    returns its data directory."""
    where = operator_dir(service_dir)
    if not (where / INSTALLATION_FILE).exists():
        make_installation(where, insecure_fast_kdf=insecure_fast_kdf)
    return where


def add_operator(
    service_dir: Path, *, email: str, name: str, passphrase: str
) -> tuple[Account, str]:
    """A new operator account; returns it and its TOTP secret (shown once). Raises AccountError
    (portal.keys.accounts) as `portal admin add` does. Audited in the service's chain."""
    ctx = open_context(ensure_operator_installation(service_dir))
    try:
        return add_account(
            ctx,
            email=email,
            name=name,
            role=OPERATOR_ROLE,
            passphrase=passphrase,
            must_change_credentials=False,
        )
    finally:
        ctx.db.conn.close()


def record(service_dir: Path, event: str, detail: dict) -> None:
    """One entry of the service-level audit chain, by the operator at the command line (no
    account): `event` and `detail` as portal.records.audit.record takes them."""
    ctx = open_context(ensure_operator_installation(service_dir))
    try:
        audit.record(ctx, event, actor=None, detail=detail)
    finally:
        ctx.db.conn.close()
