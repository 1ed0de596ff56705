"""Running the file checks in a child process that a hostile file cannot take the worker with:
under bubblewrap (no network, no other namespace, a read-only view of the interpreter and of this
package only, no data directory, no /tmp) when it can run here, else a plain child; either way
with its own memory and CPU limits (child.py), a wall-clock timeout, and input and output through
pipes only, its output read up to a bound. Files above SIZE_CAP are not checked."""

from __future__ import annotations

import functools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import kinds
from .child import cleaned_bound

SIZE_CAP = 64 * 1024 * 1024
# The child's address space (RLIMIT_AS). 384 MiB: a 36-megapixel JPEG (6000x6000, 108 MB of
# pixels) still checks at 256 MiB, so 384 MiB leaves room for ordinary files, while a decompression
# bomb stops at 3/8 of the earlier 1 GiB and eight checks at once stay near 3 GiB (issue 22).
MEMORY_BYTES = 384 * 1024 * 1024
CPU_SECONDS = 20
WALL_SECONDS = 40
# What the worker reads of the child's answer beyond the cleaned bytes (the 4-byte length and the
# JSON header, a few hundred bytes in practice): a child that writes more than its bound (a parser
# subverted by a hostile file, writing in a loop) is killed and the file is "too large or too
# complex to check", so it cannot fill the worker's memory in the seconds before the timeout.
HEADER_BYTES = 64 * 1024
_READ_BYTES = 1024 * 1024

_PACKAGE = Path(__file__).resolve().parent
_LAUNCH = (
    "import sys; sys.path.insert(0, {root!r}); from portal.hidden_details.child import main; main()"
)


@dataclass(frozen=True)
class Checked:
    """What a check found. `cleaned`: the file without its hidden details (None when it was not
    checked); `kinds`: the kinds removed (portal.hidden_details.kinds), never a value; `reason`
    why it was not checked ("" when it was); `limits`: the child's RLIMIT_AS and RLIMIT_CPU as
    it reported them; `seccomp` whether its seccomp filter was on (child.confine)."""

    cleaned: bytes | None
    kinds: tuple[str, ...] = ()
    reason: str = ""
    limits: dict | None = None
    seccomp: bool = False

    @property
    def checked(self) -> bool:
        return self.cleaned is not None


def file_format(data: bytes) -> str | None:
    """'jpeg', 'png', 'tiff', 'heic', 'pdf' or 'zip' from the first bytes; None for any other
    kind."""
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):  # classic or BigTIFF
        return "tiff"
    if is_heif(data):
        return "heic"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    return None


_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}


def is_heif(data: bytes) -> bool:
    """Whether `data` opens with an ISO-BMFF `ftyp` box naming an HEVC-coded HEIF brand, as its
    major brand or a compatible one (an AVIF file, AV1-coded, or an MP4 video names none)."""
    if data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[:4], "big")
    if not 16 <= size <= 1024:
        return False
    end = min(size, len(data))  # the first bytes of an upload may stop inside the box
    brands = {data[8:12]} | {data[at : at + 4] for at in range(16, end - 3, 4)}
    return bool(brands & _BRANDS)


# Besides printable characters, plain text holds tabs, line and page breaks and a byte-order mark.
_TEXT_CONTROLS = ("\n", "\r", "\t", "\f", "\ufeff")


def plain_text(data: bytes) -> bool:
    """Whether `data` (a file of no kind file_format names) is plain text: UTF-8 with no control
    characters but tabs, line and page breaks. Such a file has no place for the hidden details this
    package removes (authors, dates, devices, locations), only the words anyone opening it reads.
    It runs on the request, up to SIZE_CAP: the allowed characters are taken out with str.replace
    and the rest tested at once with isprintable, in C (a test per character in Python took about
    five times as long)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    for allowed in _TEXT_CONTROLS:
        text = text.replace(allowed, "")
    return text.isprintable()


def bwrap_command(inner: list[str]) -> list[str]:
    binds = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / top
        if path.is_symlink():
            binds += ["--symlink", str(path.readlink()), str(path)]
        elif path.exists():
            binds += ["--ro-bind", str(path), str(path)]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        if not prefix.startswith("/usr"):
            binds += ["--ro-bind", prefix, prefix]
    # The dynamic linker's cache, read-only: how pyseccomp (ctypes) finds libseccomp (confine).
    binds += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    binds += ["--ro-bind", str(_PACKAGE.parent / "__init__.py"), "/sandbox/portal/__init__.py"]
    binds += ["--ro-bind", str(_PACKAGE), "/sandbox/portal/hidden_details"]
    return [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--cap-drop",
        "ALL",
        *binds,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--chdir",
        "/",
        *inner,
    ]


def _inner(root: str, form: str, memory: int, cpu: int) -> list[str]:
    return [
        sys.executable,
        "-I",
        "-B",
        "-c",
        _LAUNCH.format(root=root),
        form,
        str(memory),
        str(cpu),
    ]


@functools.cache
def bubblewrap_works() -> bool:
    """Whether bubblewrap can make its namespaces here (it cannot in some containers)."""
    if shutil.which("bwrap") is None:
        return False
    try:
        probe = subprocess.run(
            bwrap_command([sys.executable, "-I", "-c", "pass"]),
            input=b"",  # a pipe: opening /dev/null would be a write-mode open
            capture_output=True,
            timeout=WALL_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def describe() -> str:
    """One line for the startup log and the health check: how files are checked here."""
    if bubblewrap_works():
        return (
            "File checks run in bubblewrap (no network, no data directory) with memory and"
            " time limits."
        )
    return (
        "File checks run in a plain child process with memory and time limits only:"
        " bubblewrap is not installed or cannot run here (SECURITY.md, Hidden details in files)."
    )


def command(form: str, memory: int, cpu: int, sandboxed: bool) -> list[str]:
    if sandboxed:
        return bwrap_command(_inner("/sandbox", form, memory, cpu))
    return _inner(str(_PACKAGE.parent.parent), form, memory, cpu)


def check(
    data: bytes,
    *,
    memory_bytes: int | None = None,
    cpu_seconds: int | None = None,
    wall_seconds: float | None = None,
    sandboxed: bool | None = None,
) -> Checked:
    """Find and remove the hidden details of one file (bytes in memory; nothing is written to
    disk). Never raises for what the file holds: a file of no known kind, above SIZE_CAP, that
    does not parse, or that takes the child past its memory, CPU or wall-clock limit comes back
    not checked, with the reason; so does one whose cleaned copy would be larger than
    cleaned_bound (4 times the file plus 1 MiB), reason "size", one whose child writes more
    than answer_bound (killed, its answer read no further), reason "size", and one whose child its
    seccomp filter killed (a call no cleaning needs), reason "forbidden". The limits default to
    MEMORY_BYTES, CPU_SECONDS and WALL_SECONDS; `sandboxed` None: bubblewrap where it works."""
    form = file_format(data)
    if form is None:
        return Checked(None, reason="kind")
    if len(data) > SIZE_CAP:
        return Checked(None, reason="size")
    if sandboxed is None:
        sandboxed = bubblewrap_works()
    memory = MEMORY_BYTES if memory_bytes is None else memory_bytes
    cpu = CPU_SECONDS if cpu_seconds is None else cpu_seconds
    ran = _run(
        command(form, memory, cpu, sandboxed),
        data,
        WALL_SECONDS if wall_seconds is None else wall_seconds,
        answer_bound(len(data)),
    )
    if isinstance(ran, str):
        return Checked(None, reason=ran)
    return _answer(*ran, cleaned_bound(len(data)))


def answer_bound(size: int) -> int:
    """The most bytes the worker reads from the child checking a `size`-byte file: the cleaned
    bound (child.cleaned_bound) and HEADER_BYTES."""
    return cleaned_bound(size) + HEADER_BYTES


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass  # the child stopped reading (it failed, or was killed): its answer says why
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _run(argv: list[str], data: bytes, wall: float, most: int) -> tuple[bytes, int] | str:
    """(stdout, return code) of the child fed `data` on stdin, or the reason it gave none:
    "time" past `wall` seconds, "size" when it wrote more than `most` bytes (killed at once,
    nothing more read), "failed" when it could not start. Its stderr goes nowhere: a hostile
    file's parser could put anything there, and nothing of a file is ever logged."""
    try:
        child = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return "failed"
    feeder = threading.Thread(target=_feed, args=(child.stdin, data), daemon=True)
    feeder.start()
    deadline = time.monotonic() + wall
    chunks: list[bytes] = []
    read = 0
    try:
        with selectors.DefaultSelector() as waiting:
            waiting.register(child.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not waiting.select(left):
                    return "time"
                chunk = os.read(child.stdout.fileno(), _READ_BYTES)
                if not chunk:
                    break
                read += len(chunk)
                if read > most:
                    return "size"
                chunks.append(chunk)
        try:
            returncode = child.wait(max(deadline - time.monotonic(), 0.001))
        except subprocess.TimeoutExpired:
            return "time"
        return b"".join(chunks), returncode
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
        feeder.join()


def _answer(out: bytes, returncode: int, bound: int) -> Checked:
    if returncode in (-signal.SIGSYS, 128 + signal.SIGSYS):  # the plain child, or bwrap's exit
        # Killed by its seccomp filter (child.confine): the file made its parser ask the kernel
        # for something no honest cleaning needs. It goes through as it came.
        return Checked(None, reason="forbidden")
    if returncode != 0 or len(out) < 4:
        # Killed (SIGKILL past RLIMIT_CPU, SIGSEGV on an allocation the limit refused) or
        # broken: the file goes through as it came.
        return Checked(None, reason="limit" if returncode < 0 else "failed")
    size = int.from_bytes(out[:4], "big")
    try:
        header = json.loads(out[4 : 4 + size])
    except ValueError:
        return Checked(None, reason="failed")
    limits, confined = header.get("limits"), header.get("seccomp") is True
    if header.get("outcome") != "cleaned":
        return Checked(None, reason=header.get("outcome", "failed"), limits=limits,
                       seccomp=confined)
    cleaned = out[4 + size :]
    if len(cleaned) > bound:  # the child holds to it too; this holds even if it was subverted
        return Checked(None, reason="size", limits=limits, seccomp=confined)
    found = header.get("kinds", ())
    if not isinstance(found, list) or not all(
        isinstance(kind, str) and kind in kinds.ALL for kind in found
    ):  # a subverted child's words reach no receipt
        return Checked(None, reason="failed", limits=limits, seccomp=confined)
    return Checked(cleaned, tuple(found), limits=limits, seccomp=confined)
