"""`portal roster ...`: each channel's signed roster as the operator sees it, and pinning a new
channel's root in a roots file the serving user cannot write (docs/deploy.md, "Roster roots")."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli.channels import channel
from portal.cli.root import main, open_installation
from portal.cli.words import Refused, _, said


@main.group("roster")
def roster_group() -> None:
    """Each channel's signed roster: who may read its disclosures, vouched for by its officers."""


@roster_group.command("show")
@click.pass_obj
def roster_show(data_dir: Path) -> None:
    """Print each channel's root fingerprint, whether it is pinned, its length and any problem."""
    import crypto
    from portal.keys import roster
    from portal.keys.channels import list_channels

    ctx = open_installation(data_dir)
    for channel in list_channels(ctx):
        state = roster.load(ctx, channel.id)
        if not state.started:
            click.echo(f"{channel.name}: no signed roster yet")
            continue
        pinned = "pinned" if state.pinned else "NOT PINNED"
        click.echo(
            f"{channel.name}: root {crypto.key_fingerprint(state.root)} ({pinned}),"
            f" {state.stored} statement(s), {len(state.verified.readers)} reader(s)"
            + (f"; DOES NOT VERIFY: {state.problem}" if state.problem else "")
        )
    ctx.db.conn.close()


@roster_group.command("pin")
@click.argument("channel")
@click.option(
    "--fingerprint",
    required=True,
    help="The root fingerprint the channel's first officer reads to you from their console.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the roots file with this root added here instead, for root to install in place.",
)
@click.pass_obj
def roster_pin(data_dir: Path, channel: str, fingerprint: str, output: Path | None) -> None:
    """Pin CHANNEL's root in the roots file ($PORTAL_ROSTER_ROOTS) after its first officer has read
    you the fingerprint from their console. The serving user cannot write that file in production:
    write the new version with --output, then install it as root (docs/deploy.md)."""
    import crypto
    from portal.keys import roster, roster_files
    from portal.keys.channels import find_channel

    ctx = open_installation(data_dir)
    found = find_channel(ctx, channel)
    state = roster.load(ctx, found.id) if found else None
    ctx.db.conn.close()
    if state is None or not state.started:
        raise Refused(_("%(channel)s has no signed roster to pin yet.", channel=channel))
    if " ".join(fingerprint.split()) != crypto.key_fingerprint(state.root):
        raise Refused(
            _("That fingerprint is not the root of this channel's roster: nothing was pinned.")
        )
    path = ctx.settings.roster_roots_path
    if output is not None:
        roots = roster_files.read_roots(path)
        if roots.get(found.id, state.root) != state.root:
            raise Refused(
                _(
                    "%(path)s pins another root for %(channel)s: nothing written.",
                    path=path,
                    channel=channel,
                )
            )
        roots[found.id] = state.root
        output.write_text(roster_files.roots_document(roots))
        click.echo(
            _(
                "wrote %(output)s: install it as %(path)s (owner root, mode 0644)",
                output=output,
                path=path,
            )
        )
        return
    if not roster_files.pin_root(path, found.id, state.root):
        raise Refused(
            _(
                "%(path)s could not be written, or pins another root for %(channel)s: nothing"
                " changed.",
                path=path,
                channel=channel,
            )
        )
    click.echo(_("pinned the root of %(channel)s in %(path)s", channel=channel, path=path))


@roster_group.command("hand-over")
@click.argument("channel")
@click.option(
    "--to",
    "email",
    required=True,
    help="A confirmed officer of the channel whom its roster admits: the new root holder.",
)
@click.pass_obj
def roster_hand_over(data_dir: Path, channel: str, email: str) -> None:
    """When CHANNEL's root holder is gone: read the recovery custodians' shares, one a line, on
    standard input (as `portal channel recover`), and sign with the custodians' key a hand-over of
    the roster's root to the officer. The shares and the secret they make are forgotten at once."""
    import sys

    import crypto
    from portal.keys import roster_custodians
    from portal.keys.recovery import RecoveryError

    ctx = open_installation(data_dir)
    shares = [line for line in sys.stdin.read().splitlines() if line.strip()]
    try:
        officer = roster_custodians.hand_over(ctx, channel, email, shares)
    except (RecoveryError, crypto.RecoveryShareError) as exc:
        raise Refused(said(exc))
    finally:
        shares.clear()
        ctx.db.conn.close()
    click.echo(
        _(
            "The root of %(channel)s was handed to %(email)s by the custodians; its officers see"
            " the change in the console at their next sign-in.",
            channel=repr(channel.strip()),
            email=officer.email,
        )
    )


@channel.command("roster")
@click.argument("name")
@click.pass_obj
def channel_roster(data_dir: Path, name: str) -> None:
    """Print CHANNEL's signed roster, one statement a line, as verified from its pinned root; exit 1
    naming the first statement (or record) that does not verify."""
    import crypto
    from crypto import roster as signed
    from portal.keys import roster
    from portal.keys.accounts import get_account
    from portal.keys.channels import find_channel

    ctx = open_installation(data_dir)
    try:
        found = find_channel(ctx, name)
        if found is None:
            raise Refused(_("No such channel: %(name)s.", name=name))
        state = roster.load(ctx, found.id)
        rows = ctx.db.execute(
            "SELECT seq, body FROM roster_statements WHERE channel_id = ? ORDER BY seq",
            [found.id],
        ).fetchall()
        if not state.started:
            click.echo(f"{found.name}: no signed roster yet")
            return
        click.echo(
            f"root {crypto.key_fingerprint(state.root)}"
            + (" (pinned)" if state.pinned else " (NOT PINNED)")
        )
        for seq, body in rows[: state.verified.length]:
            statement = signed.decode_statement(bytes(body))
            who = get_account(ctx, statement.officer) if statement.officer else None
            key = crypto.key_fingerprint(statement.key) if statement.key else "-"
            click.echo(
                f"{seq} {statement.kind} {statement.day}"
                f" {who.name if who else (statement.officer or '-')} key {key}"
            )
    finally:
        ctx.db.conn.close()
    if state.problem:
        click.echo(f"DOES NOT VERIFY: {state.problem}", err=True)
        raise SystemExit(1)
