"""One file of a disclosure or reply being received: encrypted into a blob as its bytes arrive,
under the case key or (for a kind the checks may clean) a key of the request's own until kept."""

from __future__ import annotations

import dataclasses

import crypto
from portal.core.context import Context
from portal.hidden_details import sandbox
from portal.intake.digests import ReceivedDigest
from portal.intake.filenames import clean_filename
from portal.records import case_attachments, casefiles
from portal.records.casefiles import Attachment

# While an upload goes on, the kernel is asked to start writing its ciphertext out (and may then
# drop it from the page cache), so the fsync at commit finds little left to do.
_FLUSH_EVERY = 32 * 1024 * 1024


class PendingFile:
    """One uploaded file being encrypted into a blob as its bytes arrive."""

    def __init__(self, ctx: Context, case_id: str, case_key: bytes, filename: str) -> None:
        self.id = casefiles.new_id()
        self.name = clean_filename(filename)
        self._ctx = ctx
        self._writer = ctx.blobs.writer()
        self._case_key, self._ad = case_attachments.stream_key_and_ad(case_id, case_key, self.id)
        # Chosen by the first bytes (_start): the key the bytes as received go to disk under.
        self._key = self._case_key
        self._under_case_key = True
        self._encryptor: crypto.StreamEncryptor | None = None
        self.attachment: Attachment | None = None
        # The file's digest as received, kept (encrypted) so a signed acknowledgement can commit to
        # it, hashed beside the encryption (portal.intake.digests). The encryption stays on the
        # request's thread: on a thread of its own (tried for issue 23) a 2 GiB upload took about
        # half as long again on this busy 2-core machine, as the two threads waited on each other.
        self._digest = ReceivedDigest()
        self._unflushed = self._received = 0  # _received: the file's bytes

    def _start(self, first: bytes) -> None:
        """A file of a kind the checks may clean goes to disk under a fresh key held only in this
        object's memory, not the case key: the blob of an original that cleaning then removes (its
        freed blocks, a snapshot, a backup) cannot be opened by the case's officers (SECURITY.md,
        "Hidden details in files"); what is kept is sealed under the case key (commit, replace).
        Any other kind is never cleaned: it goes under the case key at once and is written once."""
        if len(first) < 8 or sandbox.file_format(first) is not None:
            self._key, self._under_case_key = crypto.new_case_key(), False
        self._encryptor = crypto.StreamEncryptor(self._key, self._writer.file, self._ad)

    def write(self, data: bytes) -> None:
        if self._encryptor is None:
            self._start(data)
        if not self._under_case_key and self._received + len(data) > sandbox.SIZE_CAP:
            self._case_key_from_here()
        self._received += len(data)
        self._encryptor.write(data)
        self._digest.update(data)
        self._unflushed += len(data)
        if self._unflushed >= _FLUSH_EVERY:
            self._writer.let_go()
            self._unflushed = 0

    def finish(self, content_type: str) -> None:
        if self._encryptor is None:
            self._start(b"")
        size = self._encryptor.close()
        self._writer.close()
        self.attachment = Attachment(
            self.id, self.name, content_type[:100], size, self._digest.hexdigest()
        )

    def read_back(self) -> bytes:
        """The file as received, decrypted whole from its (finished) blob."""
        return case_attachments.read_whole(self._ctx, self._writer.name, self._key, self._ad)

    def replace(self, data: bytes, sha256: str, hidden: str, kinds: tuple[str, ...]) -> None:
        """Its content is now `data` (the file cleaned), sealed under the case's key; the blob as
        received (under the request's key) is removed."""
        writer, size = case_attachments.write_blob(self._ctx, self._case_key, self._ad, data)
        self._writer.discard()
        self._writer = writer
        self._under_case_key = True
        self.attachment = dataclasses.replace(
            self.attachment, size=size, sha256=sha256, hidden=hidden, hidden_kinds=kinds
        )

    def _case_key_from_here(self) -> None:
        """The file has just grown past the checks' size cap, so it will never be checked: what
        came so far (at most SIZE_CAP) is encrypted again under the case key into a new blob, and
        the rest streams into that blob once, not the whole file twice (issue 26; a part declares
        no size of its own, so nothing tells it earlier)."""
        self._encryptor.close()
        self._writer.close()
        self._encryptor = self._copy_to_case_key()
        self._key = self._case_key
        self._unflushed = 0

    def _seal_for_case(self) -> None:
        """The file kept as received: its blob encrypted again, chunk by chunk, from the
        request's key to the case's; the blob under the request's key is removed."""
        self._copy_to_case_key().close()
        self._writer.close()

    def _copy_to_case_key(self) -> crypto.StreamEncryptor:
        """The (finished) blob under the request's key copied into a new blob under the case key,
        which becomes this file's; its encryptor is returned open, the old blob removed."""
        writer = self._ctx.blobs.writer()
        try:
            encryptor = crypto.StreamEncryptor(self._case_key, writer.file, self._ad)
            for chunk in case_attachments.decrypted_chunks(
                self._ctx, self._writer.name, self._key, self._ad
            ):
                encryptor.write(chunk)
        except BaseException:
            writer.discard()
            raise
        self._writer.discard()
        self._writer, self._under_case_key = writer, True
        return encryptor

    def commit(self, day_timestamp: float) -> tuple[Attachment, str]:
        """The file's blob, under the case's key, committed: (its attachment, the blob's name).
        Called outside any transaction: a file kept as received is encrypted again here."""
        if self.attachment is None:
            raise ValueError("file was not finished")
        if not self._under_case_key:
            self._seal_for_case()
        return self.attachment, self._writer.commit(day_timestamp)

    def discard(self) -> None:
        self._digest.close()
        self._writer.discard()
