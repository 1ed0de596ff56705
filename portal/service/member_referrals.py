"""Referral between member organisations of the service (ss 16, 25; issue 29; docs/organisations.md,
"Referral between member organisations"): what the dispatcher gives each organisation's app
(`app.config["PORTAL_MEMBER_REFERRALS"]`, a `Members`), so that its officers can refer a case to a
channel of another member without the app knowing anything else of the service.

The receiving channel's verified readers are read from the receiving organisation's own database
and signed roster (verified under its own pinned roots), the case is sealed for them in the
referring officer's session (portal.casework.member_referrals) and stored there
(portal.intake.referred_in), then recorded at home, the discloser's status saying where it went.
SQLite makes no transaction across two files: the receiving case is committed inside the
referring organisation's open transaction, just before it commits.
"""

from __future__ import annotations

import time
from pathlib import Path

from portal.casework import member_referrals
from portal.casework.referrals import ReferralError
from portal.core.clock import today
from portal.core.context import Context, open_context
from portal.core.words import N_
from portal.guard import submissions
from portal.intake import cases, referred_in
from portal.keys import channels, recovery
from portal.keys.officer_sessions import SignedIn
from portal.service.registry import data_dir_of, organisations
from portal.store import transaction

# How long a member's app keeps the list of the other members' channels (each case page shows
# it): without it, every view of a case page would open every other member's database.
LIST_SECONDS = 30.0


class Members:
    """The other members of the service, as one member's app sees them."""

    def __init__(self, service_dir: Path, slug: str) -> None:
        self.service_dir, self.slug = Path(service_dir), slug
        self._listed: tuple[float, list[tuple[str, str]]] | None = None

    def _others(self):
        return [org for org in organisations(self.service_dir) if org.slug != self.slug]

    def channels(self) -> list[tuple[str, str]]:
        """(value, label) of each channel of each other member, by name: "ORG-ID:CHANNEL-ID",
        "Board B, Integrity" (as an s 17 release to it names it). Empty in a service of one
        organisation. Read again at most every LIST_SECONDS."""
        now = time.monotonic()
        if self._listed is not None and now - self._listed[0] < LIST_SECONDS:
            return self._listed[1]
        found = []
        for org in sorted(self._others(), key=lambda o: o.name.casefold()):
            ctx = open_context(data_dir_of(self.service_dir, org.slug))
            try:
                listed = channels.list_channels(ctx)
                found += [(f"{org.id}:{c.id}", f"{org.name}, {c.name}") for c in listed]
            finally:
                ctx.db.conn.close()
        self._listed = (now, found)
        return found

    def refer(
        self,
        ctx: Context,
        who: SignedIn,
        ref: str,
        channel: str,
        *,
        consultation: str,
        consultation_note: str,
        reason: str,
        with_identity: bool,
        concerns: str = "general",
        submission_token: str | None = None,
    ) -> str:
        """Refer case `ref` to `channel` (a value of `channels`): sealed to its verified readers
        and stored there, and recorded here as referred (s 16) to the head of that organisation.
        Returns the receiving case's reference (which the referring side never shows). Raises
        CaseNotFound, ReferralError, submissions.AlreadySubmitted."""
        org_id, _, channel_id = channel.partition(":")
        org = next((o for o in self._others() if o.id == org_id), None)
        home = next(o for o in organisations(self.service_dir) if o.slug == self.slug)
        if org is None or not channel_id.isdigit():
            raise ReferralError(N_("Choose a channel of another organisation of this service."))
        receiver = open_context(data_dir_of(self.service_dir, org.slug))
        try:
            found = [c for c in channels.list_channels(receiver) if c.id == int(channel_id)]
            if not found:
                raise ReferralError(N_("Choose a channel of another organisation of this service."))
            target = _target(receiver, org, found[0], home.name)
            case, case_key, internal_key, package = member_referrals.seal_for(
                ctx, who, ref, target, concerns=concerns, consultation=consultation,
                consultation_note=consultation_note, reason=reason, with_identity=with_identity,
            )
            day = today(ctx.settings.timezone)
            with transaction(ctx.db):
                submissions.claim(ctx.db, submission_token, day)
                member_referrals.record_at_home(
                    ctx, who, case, case_key, internal_key, target, package,
                    consultation=consultation, consultation_note=consultation_note,
                    reason=reason, day=day,
                )
                try:
                    with transaction(receiver.db):
                        return referred_in.store(receiver, target.channel, package, home.id)
                except (referred_in.ReadersChanged, cases.NoReceiver, cases.NoVerifiedReader):
                    raise ReferralError(N_(
                        "That channel's readers changed while the case was sealed for them:"
                        " nothing was sent. Refer it again."
                    )) from None
        finally:
            receiver.db.conn.close()


def _target(receiver: Context, org, channel: channels.Channel, home_name: str):
    try:
        _, readers = referred_in.verified_readers(receiver, channel.name)
    except (cases.NoReceiver, cases.NoVerifiedReader):
        readers = []
    return member_referrals.Target(
        organisation=org.id,
        organisation_name=org.name,
        channel=channel.name,
        readers=tuple(member_referrals.Reader(r.id, r.public_key) for r in readers),
        recovery_key=recovery.admitted_key(receiver, channel.id),
        day=today(receiver.settings.timezone),
        referred_by=home_name,
    )
