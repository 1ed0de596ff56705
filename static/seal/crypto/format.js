// The portal's byte formats shared by every ciphertext kind (SECURITY.md, "Cryptographic format"),
// byte for byte as crypto/_format.py, crypto/padding.py, crypto/kdf.py and crypto/fields.py make
// them. No DOM; randomness only from crypto.getRandomValues.
import { blake2b } from '../vendor/hashes/blake2.js';
import { xchacha20poly1305 } from '../vendor/ciphers/chacha.js';

export const FORMAT_VERSION = 1;
export const PADDED_VERSION = 2; // fields and streams, padded since issue 26
export const KIND_WRAPPED_KEY = 0x01;
export const KIND_SEALED = 0x02;
export const KIND_FIELD = 0x03;
export const KIND_STREAM = 0x04;
export const KIND_SESSION_HALF = 0x05;

/** Base of every error this module throws (crypto/errors.py's CryptoError). */
export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = this.constructor.name;
  }
}
/** Authentication failed: wrong key, tampering, truncation, trailing data, a malformed blob. */
export class DecryptionError extends CryptoError {}
/** The blob starts with a format version byte this code does not know. */
export class UnsupportedVersion extends CryptoError {}
/** A receipt code fails normalisation, length or its check character. */
export class ReceiptTypo extends CryptoError {}
/** KDF parameters outside the accepted range. */
export class BadParameters extends CryptoError {}
/** A public key that nothing may be sealed to or verified with (low order, non-canonical). */
export class KeyRejected extends CryptoError {}

const encoder = new TextEncoder();

/** n bytes from the platform CSPRNG (crypto.getRandomValues, at most 65536 bytes a call). */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** UTF-8 bytes of a string; TypeError for anything else. */
export function utf8(value, name = 'value') {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  return encoder.encode(value);
}

/** The value as a Uint8Array of `size` bytes (any size if null); TypeError / RangeError else. */
export function requireBytes(value, size, name) {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (size !== null && value.length !== size) {
    throw new RangeError(`${name} must be ${size} bytes, got ${value.length}`);
  }
  return value;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Lower- or upper-case hex to bytes; TypeError unless an even count of hex digits. */
export function fromHex(text) {
  if (typeof text !== 'string' || text.length % 2 || /[^0-9a-fA-F]/.test(text)) {
    throw new TypeError('not hex');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Constant-time equality of two byte arrays (the length is not secret). */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function header(kind, version = FORMAT_VERSION) {
  return Uint8Array.of(version, kind);
}

/** Version first (a future format is reported as such), then kind; returns the version. */
export function checkHeader(blob, kind, what, versions = [FORMAT_VERSION]) {
  if (blob.length < 2) throw new DecryptionError(`${what}: too short`);
  if (!versions.includes(blob[0])) {
    throw new UnsupportedVersion(`${what}: unknown format version ${blob[0]}`);
  }
  if (blob[1] !== kind) throw new DecryptionError(`${what}: wrong kind byte ${blob[1]}`);
  return blob[0];
}

/** Length-prefixed concatenation: u32 big-endian length before each part (unambiguous AD). */
export function lp(...parts) {
  const pieces = [];
  for (const p of parts) {
    const bytes = typeof p === 'string' ? utf8(p) : requireBytes(p, null, 'part');
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, bytes.length, false);
    pieces.push(len, bytes);
  }
  return concat(...pieces);
}

// Padded sizes (crypto/padding.py): buckets up to 4 KiB, then Padmé.
export const MARKER = 0x80;
const BUCKETS = [64, 128, 256, 512, 1024, 2048, 4096];

// Python's int.bit_length for a safe integer (exact: no floating-point logarithm).
function bitLength(n) {
  return n === 0 ? 0 : n.toString(2).length;
}

/** Padmé of a length L (Nikitin et al., PETS 2019); exact for every L below 2^53. */
export function padme(length) {
  if (length < 2) return length;
  const e = bitLength(length) - 1;
  const s = bitLength(e);
  const unit = 2 ** (e - s);
  return Math.ceil(length / unit) * unit;
}

/** Bytes sealed for an n-byte plaintext: n + 1 (the 0x80 marker), then a bucket or Padmé. */
export function paddedLength(n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('length must be a whole number');
  const length = n + 1;
  for (const bucket of BUCKETS) if (length <= bucket) return bucket;
  return padme(length);
}

/** data || 0x80 || zeros, paddedLength(data.length) bytes in all. */
export function pad(data) {
  const out = new Uint8Array(paddedLength(data.length));
  out.set(data);
  out[data.length] = MARKER;
  return out;
}

/** Inverse of pad, after authentication (no padding oracle); DecryptionError if malformed. */
export function unpad(padded, what) {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  if (end === 0 || padded[end - 1] !== MARKER) throw new DecryptionError(`${what}: bad padding`);
  return padded.slice(0, end - 1);
}

const PERSON_SIZE = 16;

/** Keyed BLAKE2b(key, person=label) over context: crypto/kdf.py's _blake2b_kdf. */
export function blake2bKdf(key, label, context, size = 32) {
  requireBytes(key, null, 'key');
  if (key.length < 16 || key.length > 64) throw new RangeError('key must be 16..64 bytes');
  if (size < 16 || size > 64) throw new RangeError('size must be 16..64');
  return blake2b(context, { key, dkLen: size, personalization: person(label) });
}

/** A BLAKE2b personalisation: 1..16 ASCII characters without NUL, zero-padded as libsodium. */
export function person(label) {
  if (typeof label !== 'string' || !/^[\x01-\x7f]{1,16}$/.test(label)) {
    throw new RangeError('label must be 1..16 ASCII characters without NUL');
  }
  const out = new Uint8Array(PERSON_SIZE);
  out.set(encoder.encode(label));
  return out;
}

/** derive_subkey: keyed BLAKE2b(key, message = empty, person = label), one subkey per label. */
export function deriveSubkey(key, label, size = 32) {
  return blake2bKdf(key, label, new Uint8Array(0), size);
}

export const KEY_SIZE = 32;
export const NONCE_SIZE = 24;
export const TAG_SIZE = 16;
export const FIELD_OVERHEAD = 2 + NONCE_SIZE + TAG_SIZE;

/** Raw XChaCha20-Poly1305-IETF (libsodium's crypto_aead_xchacha20poly1305_ietf): ct || tag. */
export function aeadEncrypt(key, nonce, plaintext, ad) {
  requireBytes(key, KEY_SIZE, 'key');
  requireBytes(nonce, NONCE_SIZE, 'nonce');
  return xchacha20poly1305(key, nonce, requireBytes(ad, null, 'ad')).encrypt(
    requireBytes(plaintext, null, 'plaintext'),
  );
}

/** Inverse of aeadEncrypt; DecryptionError on any authentication failure. */
export function aeadDecrypt(key, nonce, ciphertext, ad) {
  requireBytes(key, KEY_SIZE, 'key');
  requireBytes(nonce, NONCE_SIZE, 'nonce');
  requireBytes(ciphertext, null, 'ciphertext');
  if (ciphertext.length < TAG_SIZE) throw new DecryptionError('ciphertext shorter than its tag');
  try {
    return xchacha20poly1305(key, nonce, requireBytes(ad, null, 'ad')).decrypt(ciphertext);
  } catch {
    throw new DecryptionError('authentication failed');
  }
}

/** AD of a field ciphertext: version, kind, then lp(case id, field name). */
export function fieldAd(caseId, field, version = PADDED_VERSION) {
  return concat(header(KIND_FIELD, version), lp(utf8(caseId, 'caseId'), utf8(field, 'field')));
}

/** 02 03 | nonce (24) | XChaCha20-Poly1305 of pad(plaintext) under deriveSubkey(caseKey,
 * "fields"): 42 + paddedLength(n) bytes. `options.nonce` only for known-answer tests. */
export function encryptField(caseKey, caseId, field, plaintext, options = {}) {
  const key = deriveSubkey(requireBytes(caseKey, KEY_SIZE, 'caseKey'), 'fields');
  const nonce = options.nonce ?? randomBytes(NONCE_SIZE);
  const padded = pad(requireBytes(plaintext, null, 'plaintext'));
  const sealed = aeadEncrypt(key, nonce, padded, fieldAd(caseId, field));
  return concat(header(KIND_FIELD, PADDED_VERSION), nonce, sealed);
}

/** Opens format 2 (padded) and 1 (unpadded); DecryptionError for another case, field or key. */
export function decryptField(caseKey, caseId, field, ciphertext) {
  requireBytes(ciphertext, null, 'ciphertext');
  const version = checkHeader(ciphertext, KIND_FIELD, 'field', [FORMAT_VERSION, PADDED_VERSION]);
  if (ciphertext.length < FIELD_OVERHEAD) throw new DecryptionError('field: too short');
  const key = deriveSubkey(requireBytes(caseKey, KEY_SIZE, 'caseKey'), 'fields');
  const plain = aeadDecrypt(
    key,
    ciphertext.subarray(2, 2 + NONCE_SIZE),
    ciphertext.subarray(2 + NONCE_SIZE),
    fieldAd(caseId, field, version),
  );
  return version === FORMAT_VERSION ? plain : unpad(plain, 'field');
}
