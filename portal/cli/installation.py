"""Setting up and running an installation: `init`, `setting set`, `serve` (and the `notify` it
starts beside it) and `demo`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from portal.cli.root import insecure_fast_kdf_option, main, open_installation
from portal.cli.words import Refused, _, ngettext, said, translated
from portal.core.words import N_
from portal.intake import sealed_uploads
from portal.records import case_attachments
from portal.store import faults


@main.command()
@insecure_fast_kdf_option
@click.pass_obj
def init(data_dir: Path, insecure_fast_kdf: bool) -> None:
    """Create the data directory, database and installation secrets."""
    from portal.core.installation_file import INSTALLATION_FILE
    from portal.operations.installing import make_installation

    if (data_dir / INSTALLATION_FILE).exists():
        raise Refused(
            _("%(dir)s is already initialised; refusing to overwrite it.", dir=data_dir)
        )
    make_installation(data_dir, insecure_fast_kdf=insecure_fast_kdf)
    click.echo(_("Initialised %(dir)s.", dir=data_dir))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_obj
def serve(data_dir: Path, host: str, port: int, workers: int) -> None:
    """Serve the portal with gunicorn (gthread workers that read request heads in their main loop),
    and, while an SMTP server is set, `portal notify --keep-running` beside it."""
    from portal.web.server import port_taken
    from portal.web.server import serve as run_server

    problem = port_taken(host, port)
    if problem:
        raise Refused(_("%(problem)s Choose another with --port.", problem=problem))
    ready_to_serve(data_dir)
    run_server(data_dir, host, port, workers=workers)


def ready_to_serve(data_dir: Path) -> None:
    """Before serving an installation: warn of files others can read, and remove what an earlier
    crash left (unfinished uploads, files no case names, expired files sealed in browsers)."""
    from portal.core.installation_file import loose_permissions
    from portal.operations.release_bundle import release_key_problem

    ctx = open_installation(data_dir)
    loose = loose_permissions(data_dir)
    if loose:
        click.echo(
            _(
                "WARNING: these files in %(dir)s can be read by other users of this machine;"
                " make them readable by the owner only (chmod 600 for files, 700 for folders):",
                dir=data_dir,
            ),
            err=True,
        )
        for line in loose:
            click.echo(f"  {line}", err=True)
    refusal = release_key_problem(ctx.settings)
    if refusal:
        click.echo(_("WARNING: PORTAL_RELEASE_KEY is not served, so the sealing page will seal"
                     " nothing: %(problem)s (docs/deploy.md, 7c).", problem=refusal), err=True)
    unfinished, orphaned = ctx.blobs.sweep(case_attachments.referenced_blobs(ctx))
    # Files sealed in browsers, never named by a disclosure; on a full disk (the database opened
    # read-only, portal.store.db.connect) this waits for the next start and the portal serves on.
    fault = faults.put_off(sealed_uploads.purge_expired, ctx)
    if fault is not None:
        click.echo(
            _(
                "Could not remove expired sealed uploads now (storage fault: %(kind)s); serving"
                " on, and they are removed at the next start.",
                kind=fault.kind,
            ),
            err=True,
        )
    if unfinished or orphaned:
        click.echo(
            _(
                "Removed %(unfinished)s and %(orphaned)s no case refers to, left by an earlier"
                " crash.",
                unfinished=ngettext(
                    "%(num)d unfinished upload file", "%(num)d unfinished upload files", unfinished
                ),
                orphaned=ngettext("%(num)d file", "%(num)d files", orphaned),
            )
        )
    ctx.db.conn.close()


@main.group(invoke_without_command=True)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The port `make run` will serve on.",
)
@click.pass_context
def demo(click_ctx: click.Context, port: int) -> None:
    """Set up a demo installation once, then print its accounts (for `make run`)."""
    if click_ctx.invoked_subcommand is not None:
        return
    from portal.operations import demo as demo_setup
    from portal.web.server import port_taken

    # Before anything is printed: a taken port is one plain line, not gunicorn's retries.
    problem = port_taken("127.0.0.1", port)
    if problem:
        raise Refused(
            _(
                "%(problem)s Choose another, for example `make run PORT=%(port)s`.",
                problem=problem,
                port=port + 1,
            )
        )
    for line in demo_setup.ensure_demo(click_ctx.obj, port):
        click.echo(translated(line))


@demo.command("code")
@click.pass_obj
def demo_code(data_dir: Path) -> None:
    """Print each demo account's current six-digit code (each works once; a new one every 30 s)
    and a recovery code it has not used (works once, at any time)."""
    from portal.operations import demo as demo_setup

    codes = demo_setup.current_codes(data_dir)
    if not codes:
        raise Refused(
            _(
                "No demo set-up credentials are kept in %(dir)s: the demo accounts have chosen"
                " their own, or this is not a demo.",
                dir=data_dir,
            )
        )
    for entry in codes:
        if entry.recovery:
            click.echo(_("%(role)s %(email)s: %(code)s  (works for %(seconds)s more seconds; or,"
                         " once, recovery code %(recovery)s)", role=entry.role, email=entry.email,
                         code=entry.code, seconds=entry.seconds_left, recovery=entry.recovery))
        else:
            click.echo(_("%(role)s %(email)s: %(code)s  (works for %(seconds)s more seconds)",
                         role=entry.role, email=entry.email, code=entry.code,
                         seconds=entry.seconds_left))


@main.group()
def setting() -> None:
    """Installation settings kept in installation.json (each change is audited)."""


@setting.command("set")
@click.argument("name")
@click.argument("value")
@click.pass_obj
def setting_set(data_dir: Path, name: str, value: str) -> None:
    """Set NAME (security_contact, onion_address, officer_session_seconds,
    discloser_session_seconds; for notifications smtp_host, smtp_port, smtp_starttls (yes/no),
    smtp_username, smtp_password, smtp_from, public_url, digest_time (HH:MM), digest_counts
    (yes/no)) to VALUE.
    """
    from portal.core.setting_changes import change_setting
    from portal.records import audit as audit_log

    ctx = open_installation(data_dir)
    try:
        effect = _bits_taking_effect(data_dir, name, value)
        change_setting(data_dir, name, value)
    except ValueError as exc:
        raise click.UsageError(said(exc))
    audit_log.record(ctx, "settings_change", actor=None, detail={"setting": name})
    click.echo(_("%(name)s set. Restart `portal serve` for it to take effect.", name=name))
    if effect is not None:
        click.echo(_("A page's script is asked at most %(bits)s bits for it.", bits=effect))


def _bits_taking_effect(data_dir: Path, name: str, value: str) -> int | None:
    """What a proof-of-work setting comes to (portal.guard.proofs.effective_bits), or None for
    another setting. Raises ValueError for `pow_bits` or `pow_max_bits` above what takes effect
    (they were cut silently: `pow_bits 16` gave 14), saying what does and why."""
    from portal.core.config import load_settings
    from portal.core.setting_changes import CHANGEABLE
    from portal.core.words import Sentence
    from portal.guard import proofs

    if name not in ("pow_bits", "pow_max_bits", "pow_flood_bits"):
        return None
    parsed = CHANGEABLE[name](value.strip())
    settings = load_settings(data_dir, **{name: parsed})
    effect = proofs.effective_bits(settings, name)
    if name != "pow_flood_bits" and effect < parsed:
        raise ValueError(Sentence(N_(
            "%(name)s %(value)s would ask at most %(bits)s bits: the load never asks more than"
            " pow_script_max_bits (%(cap)s) less pow_lane_bits (%(lane)s) and one spare bit, so"
            " the reserved lane still costs more. Give at most %(bits)s, or first raise"
            " pow_script_max_bits or lower pow_lane_bits."), name=name, value=parsed, bits=effect,
            cap=settings.pow_script_max_bits, lane=settings.pow_lane_bits))
    return effect


@main.command()
@click.option(
    "--keep-running",
    "--every-hour",
    "keep_running",
    is_flag=True,
    help=(
        "Keep running and send at each day's digest time (the digest_time setting); stop when the"
        " process that started this one ends. `portal serve` starts it by itself while an SMTP"
        " server is set. (--every-hour: the older name.)"
    ),
)
@click.option(
    "--parent-pid",
    type=int,
    default=None,
    help=(
        "With --keep-running: stop when this process is no longer our parent (default: the parent"
        " at start). `portal serve` passes its own, so a server killed before this one started "
        "leaves nothing behind."
    ),
)
@click.pass_obj
def notify(data_dir: Path, keep_running: bool, parent_pid: int | None) -> None:
    """Send today's daily reminder to every officer who wants one and has not had it (now, once
    today's digest time has come; or with --keep-running at each digest time). The mail is the
    same every day and names no case, category or channel."""
    # The test configuration may shorten the day (PORTAL_NOTIFY_PERIOD_SECONDS); the shipped one
    # does not.
    period = int(os.environ.get("PORTAL_NOTIFY_PERIOD_SECONDS", "86400"))
    if not keep_running:
        click.echo(_send_digests(data_dir, period))
        return
    import time

    from portal.core.clock import now_utc
    from portal.operations.notifications import seconds_to_next_sending_time

    parent = parent_pid or os.getppid()
    while True:
        ctx = open_installation(data_dir)
        ctx.db.conn.close()
        wake = time.monotonic() + seconds_to_next_sending_time(ctx, now_utc(), period)
        while (left := wake - time.monotonic()) > 0:
            if os.getppid() != parent:  # the server that started us is gone
                return
            time.sleep(min(left, 2))
        try:
            click.echo(f"portal notify: {_send_digests(data_dir, period)}", err=True)
        except click.ClickException as exc:
            click.echo(f"portal notify: {exc.format_message()}", err=True)
        except Exception as exc:  # keep sending next time; the type only, never an address or text
            click.echo(
                "portal notify: "
                + _(
                    "the digests failed (%(why)s); trying again at the next digest time.",
                    why=type(exc).__name__,
                ),
                err=True,
            )


def _send_digests(data_dir: Path, period: int) -> str:
    """Send this slot's digests; return what happened in one line. Raises Refused."""
    import smtplib

    from portal.operations.notifications import NotConfigured, send_due

    ctx = open_installation(data_dir)
    try:
        sent, failed = send_due(ctx, period=period)
    except NotConfigured as exc:
        raise Refused(said(exc))
    except (OSError, smtplib.SMTPException) as exc:
        raise Refused(
            _(
                "The mail server could not be reached (%(why)s); nothing was marked sent, so the"
                " next run tries again.",
                why=type(exc).__name__,
            )
        )
    finally:
        ctx.db.conn.close()
    if failed:
        return _(
            "%(sent)s digest(s) sent, %(failed)s refused by the mail server (tried again next"
            " time).",
            sent=sent,
            failed=failed,
        )
    return _("%(sent)s digest(s) sent.", sent=sent)


# What each long operation (portal.store.progress kind) is, and what carries it on.
_MEMBERSHIPS = N_("the console, Who reads your channels (/console/memberships)")
UNDER_WAY = {
    "grant_all": (N_("every case of a channel given to an officer"), _MEMBERSHIPS),
    "seal_recovery": (N_("a channel's cases sealed to its recovery key"), _MEMBERSHIPS),
    "recover": (
        N_("a channel's cases re-sealed with the custodians' shares"),
        N_("`portal channel recover`, with the shares"),
    ),
    "case_delete": (
        N_("a confirmed case deletion"),
        N_("`portal retention carry-on`, or the console's retention page"),
    ),
}


@main.command("under-way")
@click.pass_obj
def under_way(data_dir: Path) -> None:
    """The long operations that stopped part way (they run in batches of short transactions and
    resume where they stopped): one a line, how far each got and what carries it on."""
    from portal.store import progress

    found = progress.every_one_under_way(open_installation(data_dir).db)
    for op in found:
        what, carry_on = UNDER_WAY.get(op.kind, (op.kind, N_("the command or page that began it")))
        click.echo(
            _(
                "%(what)s: %(done)s of %(total)s done; carried on by %(carry_on)s",
                what=_(what),
                done=op.done,
                total=op.total,
                carry_on=_(carry_on),
            )
        )
    if not found:
        click.echo(_("Nothing is under way."))
