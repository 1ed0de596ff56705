"""The sandboxed child: sets its own resource limits and, where libseccomp is there, a seccomp
filter (confine) before it reads a byte, reads one file from stdin, writes to stdout a 4-byte
length, a JSON header ({"outcome": "cleaned" | "unreadable" | "size" | "memory" | "failed",
"kinds": [...], "limits": {"as": bytes, "cpu": seconds}, "seccomp": true | false}) and the cleaned
bytes. It opens no file for writing (RLIMIT_FSIZE 0, and the filter allows opening read-only
only) and, under bubblewrap, sees no network and no data.

Run as `python -I -B -c "...main()" FORMAT MEMORY_BYTES CPU_SECONDS`
(portal.hidden_details.sandbox).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import sys

# The largest cleaned file kept for one of `size` bytes: 4 times it plus 1 MiB. A cleaning
# re-encodes (a TIFF page Pillow cannot write back in its codec, a HEIC photo) or rewrites a zip,
# so a cleaned file may be a little larger; many times larger, it would let a small upload take
# a large share of the shared daily byte budget and the disk (issue 26 review, M1: 52 KB became
# 130 MB). Past it the file is "too large or too complex to check" and kept as sent.
GROWTH_FACTOR = 4
GROWTH_ALLOWANCE = 1024 * 1024


def cleaned_bound(size: int) -> int:
    """The most bytes a cleaned copy of a `size`-byte file may have (sandbox.check holds to it)."""
    return GROWTH_FACTOR * size + GROWTH_ALLOWANCE


# What the child may ask of the kernel once its filter is on (confine): reading its input and the
# read-only files the libraries import, writing to stdout and stderr, memory, threads, signals and
# clocks. Anything else (socket, connect, execve, a fork, ptrace, mount, unlink...) kills it: the
# worker then keeps the file as sent, "it looks damaged" (sandbox.FORBIDDEN_SIGNAL).
_ALLOWED = (
    "read", "readv", "pread64", "lseek", "close", "fstat", "newfstatat", "stat", "lstat", "statx",
    "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "getcwd", "fcntl",
    "dup", "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex", "set_robust_list",
    "get_robust_list", "rseq", "set_tid_address", "sched_yield", "sched_getaffinity", "getpid",
    "gettid", "getppid", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "getrandom",
    "uname", "getuid", "geteuid", "getgid", "getegid", "sysinfo", "getrlimit", "exit",
    "exit_group", "getpriority",
)
_CLONE_THREAD = 0x00010000


def confine() -> bool:
    """Load the child's seccomp filter (libseccomp through pyseccomp): only the calls in _ALLOWED,
    `write` to stdout and stderr only, `open`/`openat` read-only only, `clone` of a thread only
    (clone3 answers ENOSYS, so the C library falls back to clone, whose flags the filter can
    read), `setpriority` of the calling thread only, `prlimit64` to read a limit only, `ioctl`
    answered ENOTTY; any other call kills
    the process (SIGSYS). It also sets
    no_new_privs. False, with nothing loaded, where libseccomp or pyseccomp is not installed."""
    try:
        import pyseccomp as seccomp
    except (ImportError, RuntimeError, OSError):  # RuntimeError: libseccomp not found
        return False
    rules = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)
    read_only = (os.O_ACCMODE | os.O_CREAT | os.O_TRUNC, os.O_RDONLY)  # (mask, value)
    threads = (_CLONE_THREAD, _CLONE_THREAD)
    wanted = [(seccomp.ALLOW, call) for call in _ALLOWED] + [
        (seccomp.ALLOW, "write", seccomp.Arg(0, seccomp.EQ, 1)),
        (seccomp.ALLOW, "write", seccomp.Arg(0, seccomp.EQ, 2)),
        (seccomp.ALLOW, "open", seccomp.Arg(1, seccomp.MASKED_EQ, *read_only)),
        (seccomp.ALLOW, "openat", seccomp.Arg(2, seccomp.MASKED_EQ, *read_only)),
        (seccomp.ALLOW, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, *threads)),
        # Reading a limit only (no new one), so a parser taken over cannot lift its own bounds.
        (seccomp.ALLOW, "prlimit64", seccomp.Arg(2, seccomp.EQ, 0)),
        # The HEVC encoder's threads lower their own priority: of the calling thread only.
        (seccomp.ALLOW, "setpriority", seccomp.Arg(1, seccomp.EQ, 0)),
        (seccomp.ERRNO(errno.ENOSYS), "clone3"),
        (seccomp.ERRNO(errno.ENOTTY), "ioctl"),
    ]
    for action, call, *conditions in wanted:
        try:
            rules.add_rule(action, call, *conditions)
        except OSError:  # a call this architecture does not have (open, stat on arm64)
            continue
    rules.load()
    return True


def _limit(which: int, value: int) -> None:
    resource.setrlimit(which, (value, value))


def _cleaner(form: str):
    # Imported only once the limits hold: the libraries are part of what they bound.
    if form == "jpeg":
        from .images import clean_jpeg

        return clean_jpeg
    if form == "png":
        from .images import clean_png

        return clean_png
    if form == "tiff":
        from .tiff import clean_tiff

        return clean_tiff
    if form == "heic":
        from .heic import clean_heic

        return clean_heic
    if form == "pdf":
        from .pdf import clean_pdf

        return clean_pdf
    import io
    import zipfile

    from .packages import Unreadable

    def clean_zip(data: bytes):
        # The names from the zip's directory only: each cleaner reads the members once, within
        # the bounds on the whole file (packages.Budget).
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise Unreadable("not a readable zip") from exc
        if "[Content_Types].xml" in names:
            from .office import clean_office

            return clean_office(data)
        if "mimetype" in names:
            from .opendocument import clean_opendocument

            return clean_opendocument(data)
        raise Unreadable("a zip of no known kind")

    return clean_zip


def _clean(cleaner, data: bytes) -> tuple[bytes, dict]:
    from .packages import TooLarge, Unreadable

    try:
        cleaned, found = cleaner(data)
    except TooLarge:  # past a bound on the whole file: "too large or too complex to check"
        return b"", {"outcome": "size", "kinds": []}
    except (Unreadable, RecursionError):  # RecursionError: nested beyond any document's
        return b"", {"outcome": "unreadable", "kinds": []}
    if len(cleaned) > cleaned_bound(len(data)):  # never written out: the worker reads no more
        return b"", {"outcome": "size", "kinds": []}
    return cleaned, {"outcome": "cleaned", "kinds": sorted(found)}


def main() -> None:
    form, memory, cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _limit(resource.RLIMIT_AS, memory)
    _limit(resource.RLIMIT_CPU, cpu)
    _limit(resource.RLIMIT_FSIZE, 0)
    _limit(resource.RLIMIT_CORE, 0)
    header = {
        "limits": {
            "as": resource.getrlimit(resource.RLIMIT_AS)[0],
            "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
        }
    }
    # The cleaner's libraries are imported within the limits but before the filter: importing
    # them finds a shared library or two (ctypes runs ldconfig), which the filter then forbids.
    try:
        cleaner = _cleaner(form)
    except MemoryError:
        cleaner = None
    header["seccomp"] = confine()
    data = sys.stdin.buffer.read()
    try:
        if cleaner is None:
            raise MemoryError
        cleaned, outcome = _clean(cleaner, data)
    except MemoryError:  # past RLIMIT_AS
        cleaned, outcome = b"", {"outcome": "memory", "kinds": []}
    except Exception:  # anything else a hostile file provokes: not checked, said plainly
        cleaned, outcome = b"", {"outcome": "failed", "kinds": []}
    header.update(outcome)
    encoded = json.dumps(header).encode()
    out = sys.stdout.buffer
    out.write(len(encoded).to_bytes(4, "big") + encoded)
    out.write(cleaned)
    out.flush()
