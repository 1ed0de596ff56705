// Keys and sealing (crypto/seal.py, crypto/keys.py, crypto/roster_format.py's key checks): the
// sealed secret (kind 0x02, libsodium's crypto_box_seal), strict X25519 and Ed25519 key checks and
// Ed25519 verification exactly as libsodium's crypto_sign_verify_detached decides.
import { blake2b } from '../vendor/hashes/blake2.js';
import { sha512 } from '../vendor/hashes/sha2.js';
import { hsalsa, xsalsa20poly1305 } from '../vendor/ciphers/salsa.js';
import { ed25519, x25519 } from '../vendor/curves/ed25519.js';
import {
  DecryptionError,
  KIND_SEALED,
  KeyRejected,
  checkHeader,
  concat,
  equalBytes,
  header,
  person,
  randomBytes,
  requireBytes,
} from './format.js';

export const SEAL_OVERHEAD = 2 + 32 + 16;
export const CASE_KEY_SIZE = 32;
const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function littleEndian(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

// The u coordinates of the points of order 1, 2, 4 and 8 (on the curve and its twist), as
// noble and libsodium list them; every clamped scalar sends them to 0.
const LOW_ORDER_U = new Set([
  0n,
  1n,
  P - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
]);

/** The 32-byte X25519 public key, or KeyRejected if it is not canonical (as a little-endian
 * integer, 2^255 - 19 or more, top bit included) or of low order (crypto_scalarmult would give
 * all zeros): crypto/roster_format.py's check_x25519_public. */
export function checkX25519Public(key, name = 'key') {
  requireBytes(key, 32, name);
  const u = littleEndian(key);
  if (u >= P) throw new KeyRejected(`${name} is not a canonical X25519 public key`);
  if (LOW_ORDER_U.has(u)) throw new KeyRejected(`${name} is an X25519 key of low order`);
  return key;
}

// libsodium's ge25519_has_small_order list: the y of every point of order 1, 2, 4 or 8, compared
// without the sign bit, including the non-canonical encodings p and p + 1.
const SMALL_ORDER_Y = [0n, 1n, P - 1n, P, P + 1n].concat(
  [
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  ].map((hex) => littleEndian(Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16)))),
);

function yOf(encoding) {
  const copy = Uint8Array.from(encoding);
  copy[31] &= 0x7f;
  return littleEndian(copy);
}

function hasSmallOrder(encoding) {
  const y = yOf(encoding);
  return SMALL_ORDER_Y.some((bad) => bad === y);
}

function decodeEdwards(encoding) {
  try {
    return ed25519.Point.fromBytes(encoding, false); // y < p, no "negative zero" x
  } catch {
    return null;
  }
}

/** The 32-byte Ed25519 public key, or KeyRejected unless it is the canonical encoding of a point
 * of the prime-order subgroup, not of small order (libsodium's
 * crypto_core_ed25519_is_valid_point, as crypto/roster_format.py's check_ed25519_public). */
export function checkEd25519Public(key, name = 'signing_key') {
  requireBytes(key, 32, name);
  const point = yOf(key) < P && !hasSmallOrder(key) ? decodeEdwards(key) : null;
  if (point === null || !point.isTorsionFree()) {
    throw new KeyRejected(`${name} is not a valid Ed25519 public key`);
  }
  return key;
}

/** True exactly when libsodium's crypto_sign_verify_detached accepts: S canonical (below L), R
 * not of small order, the public key canonical and not of small order, and the encoding of
 * [S]B - [k]A equal byte for byte to R (so a non-canonical R never verifies). */
export function verifyEd25519(publicKey, signature, message) {
  requireBytes(publicKey, 32, 'publicKey');
  requireBytes(signature, 64, 'signature');
  requireBytes(message, null, 'message');
  const r = signature.subarray(0, 32);
  const s = littleEndian(signature.subarray(32));
  if (s >= L || hasSmallOrder(r)) return false;
  if (yOf(publicKey) >= P || hasSmallOrder(publicKey)) return false;
  const A = decodeEdwards(publicKey);
  if (A === null) return false;
  const k = littleEndian(sha512(concat(r, publicKey, message))) % L;
  const check = ed25519.Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes();
  return equalBytes(check, r);
}

/** RFC 8032 Ed25519 signature (64 bytes) of message by the 32-byte seed. */
export function signEd25519(seed, message) {
  return ed25519.sign(requireBytes(message, null, 'message'), requireBytes(seed, 32, 'seed'));
}

/** The Ed25519 public key (32 bytes) of a 32-byte seed. */
export function ed25519PublicKey(seed) {
  return ed25519.getPublicKey(requireBytes(seed, 32, 'seed'));
}

/** The X25519 public key of a 32-byte private key (clamped inside, as crypto_scalarmult_base). */
export function publicKeyOf(privateKey) {
  return x25519.getPublicKey(requireBytes(privateKey, 32, 'privateKey'));
}

/** libsodium's crypto_box_seed_keypair: private key = the first 32 bytes of SHA-512(seed). */
export function keypairFromSeed(seed) {
  const privateKey = sha512(requireBytes(seed, 32, 'seed')).slice(0, 32);
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

export function newCaseKey() {
  return randomBytes(CASE_KEY_SIZE);
}

const SIGMA = new Uint32Array(new TextEncoder().encode('expand 32-byte k').buffer);

// crypto_box_beforenm: HSalsa20 of the X25519 shared secret with a zero nonce.
function boxKey(privateKey, publicKey) {
  const shared = x25519.getSharedSecret(privateKey, publicKey);
  const out = new Uint32Array(8);
  hsalsa(SIGMA, new Uint32Array(Uint8Array.from(shared).buffer), new Uint32Array(4), out);
  return new Uint8Array(out.buffer);
}

function sealNonce(ephemeralPublic, recipientPublic) {
  return blake2b(concat(ephemeralPublic, recipientPublic), { dkLen: 24 });
}

/** 01 02 | crypto_box_seal(secret, publicKey): ephemeral public key (32) || XSalsa20-Poly1305
 * (MAC first) under the box key, nonce BLAKE2b-192(ephemeral pk || recipient pk). The key is
 * checked first (KeyRejected: low order, non-canonical). `options.ephemeralSecret` only for
 * tests. */
export function sealTo(publicKey, secret, options = {}) {
  checkX25519Public(publicKey, 'publicKey');
  requireBytes(secret, null, 'secret');
  const ephemeralSecret = options.ephemeralSecret ?? randomBytes(32);
  const ephemeralPublic = publicKeyOf(ephemeralSecret);
  const box = xsalsa20poly1305(
    boxKey(ephemeralSecret, publicKey),
    sealNonce(ephemeralPublic, publicKey),
  ).encrypt(secret);
  return concat(header(KIND_SEALED), ephemeralPublic, box);
}

/** The secret of a sealed box made for this private key; DecryptionError otherwise. */
export function openSealed(privateKey, sealed) {
  requireBytes(privateKey, 32, 'privateKey');
  requireBytes(sealed, null, 'sealed');
  checkHeader(sealed, KIND_SEALED, 'sealed box');
  if (sealed.length < SEAL_OVERHEAD) throw new DecryptionError('sealed box: too short');
  const ephemeralPublic = sealed.subarray(2, 34);
  try {
    const key = boxKey(privateKey, ephemeralPublic);
    const nonce = sealNonce(ephemeralPublic, publicKeyOf(privateKey));
    return xsalsa20poly1305(key, nonce).decrypt(sealed.subarray(34));
  } catch {
    throw new DecryptionError('sealed box: cannot open (not a recipient, or altered)');
  }
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A public key's fingerprint (crypto/keys.py's key_fingerprint): the first 100 bits of unkeyed
 * BLAKE2b-128(key, person "pd-key-fprint") in RFC 4648 base32, "ABCD-EFGH-IJKL-MNOP-QRST". */
export function keyFingerprint(publicKey) {
  const digest = blake2b(requireBytes(publicKey, 32, 'publicKey'), {
    dkLen: 16,
    personalization: person('pd-key-fprint'),
  });
  let bits = 0n;
  for (const b of digest) bits = (bits << 8n) | BigInt(b);
  let text = '';
  for (let i = 0; i < 20; i++) text += BASE32[Number((bits >> BigInt(123 - 5 * i)) & 31n)];
  return text.match(/.{4}/g).join('-');
}
