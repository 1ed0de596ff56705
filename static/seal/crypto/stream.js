// The portal's file blob (kind 0x04, crypto/stream.py): 02 04 | secretstream header (24) | chunks
// over pad(file), every chunk 65 536 plaintext bytes but the last (TAG_FINAL), the chunk holding
// the 0x80 marker tagged TAG_PUSH (or TAG_FINAL if last), AD = version || 04 || ad on every chunk.
// Both directions take and give pieces, so a file of any size needs memory for one chunk only.
import { sha256 } from '../vendor/hashes/sha2.js';
import {
  DecryptionError,
  FORMAT_VERSION,
  KIND_STREAM,
  MARKER,
  PADDED_VERSION,
  blake2bKdf,
  checkHeader,
  concat,
  header,
  lp,
  paddedLength,
  requireBytes,
  utf8,
} from './format.js';
import {
  ABYTES,
  HEADER_BYTES,
  SecretStreamPull,
  SecretStreamPush,
  TAG_FINAL,
  TAG_MESSAGE,
  TAG_PUSH,
} from './secretstream.js';

export const CHUNK_SIZE = 64 * 1024;
export const BLOB_HEADER_SIZE = 2 + HEADER_BYTES;
const CT_CHUNK = CHUNK_SIZE + ABYTES;
const ZEROS = new Uint8Array(CHUNK_SIZE);

/** Bytes of a format-2 blob of an n-byte file: a function of paddedLength(n) alone. */
export function paddedBlobSize(n) {
  const padded = paddedLength(n);
  return BLOB_HEADER_SIZE + padded + ABYTES * Math.ceil(padded / CHUNK_SIZE);
}

/** Per-file key: keyed BLAKE2b(caseKey, person "stream-file") over lp(caseId, attachmentId). */
export function streamKey(caseKey, caseId, attachmentId) {
  return blake2bKdf(
    requireBytes(caseKey, 32, 'caseKey'),
    'stream-file',
    lp(utf8(caseId, 'caseId'), utf8(attachmentId, 'attachmentId')),
  );
}

/** AD of an attachment's bytes: lp("attachment", caseId, attachmentId). */
export function attachmentAd(caseId, attachmentId) {
  return lp('attachment', utf8(caseId, 'caseId'), utf8(attachmentId, 'attachmentId'));
}

function chunkAd(ad, version = PADDED_VERSION) {
  return concat(header(KIND_STREAM, version), requireBytes(ad, null, 'ad'));
}

/** Push-style encryptor, byte for byte crypto/stream.py's StreamEncryptor: take `header` first,
 * then what write(piece) returns (an array of chunks) and what close() gives (an iterable of
 * chunks: iterate it to the end), in order; `.total` is the file's length so far (unpadded, what
 * limits count). A blob whose close() never ran has no final chunk and never decrypts. The output is a function of the key,
 * the secretstream header and the file alone: `options.header` (the 24 bytes after the blob's
 * first two, as `header` gave them) makes the same bytes again, so an upload interrupted after a
 * reload resumes by feeding the file again with the same key and header and sending only what
 * comes after the stored parts. Otherwise the header is random; never reuse one for another file.
 */
export class StreamEncryptor {
  constructor(key, ad, options = {}) {
    this.ad = chunkAd(ad);
    this.stream = new SecretStreamPush(requireBytes(key, 32, 'key'), options);
    this.header = concat(header(KIND_STREAM, PADDED_VERSION), this.stream.header);
    this.buf = new Uint8Array(CHUNK_SIZE); // at most one chunk is held between calls
    this.fill = 0;
    this.total = 0;
    this.closed = false;
  }

  write(data) {
    if (this.closed) throw new Error('write to a closed StreamEncryptor');
    requireBytes(data, null, 'data');
    const out = [];
    let i = 0;
    while (i < data.length) {
      if (this.fill === CHUNK_SIZE) {
        // More data has come, so the held full chunk is not the last one.
        out.push(this.stream.push(this.buf, this.ad, TAG_MESSAGE));
        this.fill = 0;
      }
      const n = Math.min(CHUNK_SIZE - this.fill, data.length - i);
      this.buf.set(data.subarray(i, i + n), this.fill);
      this.fill += n;
      i += n;
    }
    this.total += data.length;
    return out;
  }

  /** The last bytes with the marker, then the padding as chunks of zeros: a lazy iterable, so
   * the padding (up to 12% of the file) is made one chunk at a time. Idempotent. */
  close() {
    if (this.closed) return [];
    this.closed = true;
    const last = this.buf.subarray(0, this.fill);
    this.buf = new Uint8Array(0);
    return this.finish(last);
  }

  *finish(last) {
    const push = (m, tag) => this.stream.push(m, this.ad, tag);
    if (last.length === CHUNK_SIZE) {
      yield push(last, TAG_MESSAGE);
      last = last.subarray(0, 0);
    }
    let rest = paddedLength(this.total) - (this.total - last.length);
    const first = Math.min(CHUNK_SIZE, rest);
    rest -= first;
    const chunk = new Uint8Array(first);
    chunk.set(last);
    chunk[last.length] = MARKER;
    yield push(chunk, rest ? TAG_PUSH : TAG_FINAL);
    while (rest) {
      const n = Math.min(CHUNK_SIZE, rest);
      rest -= n;
      yield push(ZEROS.subarray(0, n), rest ? TAG_MESSAGE : TAG_FINAL);
    }
  }
}

/** An incremental SHA-256 (noble's): .update(piece) as the file streams, .digest() at the end;
 * the attachment metadata and the acknowledgement's commitment carry it in lower-case hex. */
export function newSha256() {
  return sha256.create();
}

/** Async generator over a blob: the header, then the encrypted chunks of the pieces `source`
 * (an async or sync iterable of Uint8Array, e.g. a File's stream) yields; returns nothing. */
export async function* encryptBlob(key, ad, source, options = {}) {
  const enc = new StreamEncryptor(key, ad, options);
  yield enc.header;
  for await (const piece of source) for (const c of enc.write(piece)) yield c;
  for (const c of enc.close()) yield c;
}

/** Push-style reader of format 2 (padded) and 1 (unpadded) blobs: write(piece) returns the
 * authenticated plaintext pieces it completes; close() throws DecryptionError unless the blob
 * ended with its final chunk. As crypto/stream.py's iter_decrypt, it refuses tampering, a
 * dropped, repeated or reordered chunk, truncation, bad padding and trailing data. A piece given
 * back is authentic, but the file is whole only when close() returns. */
export class StreamDecryptor {
  constructor(key, ad) {
    this.key = requireBytes(key, 32, 'key');
    this.adBytes = requireBytes(ad, null, 'ad');
    this.pending = new Uint8Array(0);
    this.stream = null;
    this.finished = false;
    this.inPadding = false;
    this.total = 0;
  }

  write(data) {
    requireBytes(data, null, 'data');
    if (this.finished) {
      if (data.length) throw new DecryptionError('stream: data after the final chunk');
      return [];
    }
    let buf = this.pending.length ? concat(this.pending, data) : data;
    const out = [];
    if (this.stream === null) {
      if (buf.length < BLOB_HEADER_SIZE) {
        this.pending = Uint8Array.from(buf);
        return out;
      }
      this.start(buf.subarray(0, BLOB_HEADER_SIZE));
      buf = buf.subarray(BLOB_HEADER_SIZE);
    }
    // A full-size chunk may be the last (TAG_FINAL); anything after it is refused.
    while (buf.length >= CT_CHUNK && !this.finished) {
      this.chunk(buf.subarray(0, CT_CHUNK), out);
      buf = buf.subarray(CT_CHUNK);
    }
    if (this.finished && buf.length) throw new DecryptionError('stream: data after the final chunk');
    this.pending = Uint8Array.from(buf);
    return out;
  }

  close() {
    if (this.stream === null) {
      checkHeader(this.pending, KIND_STREAM, 'stream', [FORMAT_VERSION, PADDED_VERSION]);
      throw new DecryptionError('stream: truncated header');
    }
    const out = [];
    if (!this.finished) {
      if (this.pending.length < ABYTES) throw new DecryptionError('stream: truncated (no final chunk)');
      this.chunk(this.pending, out);
      this.pending = new Uint8Array(0);
      if (!this.finished) throw new DecryptionError('stream: truncated (no final chunk)');
    }
    return out;
  }

  start(head) {
    this.version = checkHeader(head, KIND_STREAM, 'stream', [FORMAT_VERSION, PADDED_VERSION]);
    this.ad = chunkAd(this.adBytes, this.version);
    this.stream = new SecretStreamPull(this.key, head.subarray(2));
  }

  chunk(c, out) {
    let { message: m, tag } = this.stream.pull(c, this.ad);
    const padded = this.version === PADDED_VERSION;
    if (tag !== TAG_FINAL && (![TAG_MESSAGE, TAG_PUSH].includes(tag) || c.length !== CT_CHUNK)) {
      throw new DecryptionError('stream: malformed chunk');
    }
    if (padded && this.inPadding) {
      if (tag === TAG_PUSH || m.some((b) => b !== 0)) throw new DecryptionError('stream: bad padding');
      m = m.subarray(0, 0);
    } else if (padded && tag & TAG_PUSH) {
      let end = m.length;
      while (end > 0 && m[end - 1] === 0) end--;
      if (end === 0 || m[end - 1] !== MARKER) throw new DecryptionError('stream: bad padding');
      m = m.subarray(0, end - 1);
      this.inPadding = true;
    } else if (tag === TAG_PUSH || (padded && tag === TAG_FINAL)) {
      throw new DecryptionError('stream: malformed chunk');
    }
    if (tag === TAG_FINAL) this.finished = true;
    if (m.length) {
      this.total += m.length;
      out.push(m);
    }
  }
}

/** Async generator of a blob's plaintext pieces from `source` (an iterable of Uint8Array). */
export async function* decryptBlob(key, ad, source) {
  const dec = new StreamDecryptor(key, ad);
  for await (const piece of source) for (const m of dec.write(piece)) yield m;
  for (const m of dec.close()) yield m;
}
