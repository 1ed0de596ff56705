"""Paying for the disclosure and status forms as a client would (portal.guard.proofs).

With script: read the page's challenge and solve it the way static/proof.js does (SHA-256 hashcash),
here in Python. Without script: the page's ticket cookie, which the Flask test client keeps like a
browser does; `drop_ticket` makes a client that has only the proof of work."""
from __future__ import annotations

import hashlib
import math
import re

CHALLENGE_RE = re.compile(r'name="pow_challenge" value="([^"]+)"')
LANE_RE = re.compile(r'name="pow_challenge" value="[^"]+"\s*data-lane-bits="(\d+)"')


def challenge_from(html: str) -> str:
    m = CHALLENGE_RE.search(html)
    assert m, "no proof-of-work challenge on the page"
    return m.group(1)


def bits_of(challenge: str) -> int:
    return int(challenge.split(".")[2])


def lane_bits_of(html: str) -> int:
    """The reserved lane's bits the page names under load (0: none)."""
    m = LANE_RE.search(html)
    return int(m.group(1)) if m else 0


def solve(challenge: str, lane: int = 0, below: int | None = None) -> str:
    """The smallest counter whose SHA-256(challenge ":" counter) has the leading zero bits asked
    (or the lane's, when the page names more, as its script goes), and fewer than `below` if given:
    the server counts the bits a solution reaches, so a cheap solution that happens to reach a
    higher price would pay it (1 in 2**(below - asked) of them)."""
    need, counter = max(bits_of(challenge), lane), 0
    while True:
        value = int.from_bytes(hashlib.sha256(f"{challenge}:{counter}".encode()).digest(), "big")
        reached = 256 - value.bit_length()
        if reached >= need and (below is None or reached < below):
            return str(counter)
        counter += 1


SIZE_RE = re.compile(r'data-base-bits="(\d+)" data-free-bytes="(\d+)"\s*data-max-extra="(\d+)"')


def size_bits_of(html: str, declared_bytes: int) -> int:
    """The bits the page's script asks for a disclosure sending `declared_bytes` (static/proof.js:
    a bit more for each doubling past the page's free bytes; 0 on a page that names none)."""
    m = SIZE_RE.search(html)
    if not m or declared_bytes <= int(m.group(2)):
        return 0
    base, free, most = (int(n) for n in m.groups())
    return base + min(most, math.ceil(math.log2(declared_bytes / free)))


def solved(html: str, below: int | None = None, declared_bytes: int = 0) -> list[tuple[str, str]]:
    """The two fields the page's script fills in (reaching fewer than `below` bits, if given), for
    a body of `declared_bytes`."""
    challenge = challenge_from(html)
    need = max(lane_bits_of(html), size_bits_of(html, declared_bytes))
    solution = solve(challenge, need, below)
    return [("pow_challenge", challenge), ("pow_solution", solution)]


def ticket_name(purpose: str) -> str:
    return f"__Host-pd_ticket_{purpose}"


def ticket_cookie(client, purpose: str):
    return client.get_cookie(ticket_name(purpose))


def drop_ticket(client, purpose: str) -> None:
    client.delete_cookie(ticket_name(purpose))
