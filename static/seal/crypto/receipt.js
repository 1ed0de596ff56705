// Receipt codes and the identity derived from them (crypto/receipt.py), the discloser's signed
// consent answers (crypto/consent.py) and the commitment of a signed acknowledgement
// (crypto/acknowledgement.py), byte for byte as the Python core.
import { argon2idAsync } from '../vendor/hashes/argon2.js';
import {
  BadParameters,
  ReceiptTypo,
  blake2bKdf,
  deriveSubkey,
  lp,
  randomBytes,
  requireBytes,
  toHex,
  utf8,
} from './format.js';
import { ed25519PublicKey, keypairFromSeed, signEd25519, verifyEd25519 } from './keys.js';

export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford: no I, L, O, U
export const DATA_SYMBOLS = 17; // 85 bits
export const SALT_SIZE = 16;
const MAX_INPUT = 100;
const LOOK_ALIKES = { O: '0', I: '1', L: '1', U: 'V' };
// Dashes of every kind, and exactly the characters Python's str.split() treats as whitespace.
const DROPPED =
  /[-\u2010-\u2015\u2212\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/gu;

/** Argon2id cost: opslimit passes, memlimit bytes (a whole number of KiB), one lane. */
export const RECEIPT_PARAMS = Object.freeze({ opslimit: 2, memlimit: 64 * 1024 * 1024 });
/** Only for tests, passed explicitly; never a default. */
export const FAST_TEST_PARAMS = Object.freeze({ opslimit: 1, memlimit: 8 * 1024 * 1024 });

/** BadParameters unless within crypto/kdf.py's accepted range: opslimit 1..16, memlimit 8 MiB
 * to 1 GiB in whole KiB. */
export function checkKdfParams(params) {
  const { opslimit, memlimit } = params ?? {};
  if (!Number.isInteger(opslimit) || opslimit < 1 || opslimit > 16) {
    throw new BadParameters(`opslimit ${opslimit} outside [1, 16]`);
  }
  if (!Number.isInteger(memlimit) || memlimit < 8 * 1024 * 1024 || memlimit > 1024 ** 3) {
    throw new BadParameters(`memlimit ${memlimit} outside [8 MiB, 1 GiB]`);
  }
  if (memlimit % 1024) throw new BadParameters('memlimit must be a whole number of KiB');
  return params;
}

/** Argon2id 1.3 as libsodium's crypto_pwhash (one lane): 32 bytes (a Promise; it yields to the
 * event loop while it works, and `onProgress(fraction)` hears how far it is). */
export async function argon2id(secret, salt, params, onProgress) {
  checkKdfParams(params);
  return argon2idAsync(requireBytes(secret, null, 'secret'), requireBytes(salt, SALT_SIZE, 'salt'), {
    t: params.opslimit,
    m: params.memlimit / 1024,
    p: 1,
    dkLen: 32,
    onProgress,
  });
}

function timesAlpha(v) {
  v <<= 1;
  return v & 0b100000 ? v ^ 0b100101 : v; // reduce by x^5 + x^2 + 1
}

function horner(values) {
  return values.reduce((acc, v) => timesAlpha(acc) ^ v, 0);
}

function group(symbols) {
  return symbols.match(/.{1,4}/g).join('-');
}

/** A fresh receipt: 85 bits from crypto.getRandomValues plus the check symbol. */
export function newReceipt() {
  const bytes = randomBytes(11); // 88 bits, the first 85 used
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  bits >>= 3n;
  const values = [];
  for (let i = 0; i < DATA_SYMBOLS; i++) {
    values.push(Number((bits >> BigInt(5 * (DATA_SYMBOLS - 1 - i))) & 31n));
  }
  values.push(timesAlpha(horner(values)));
  return group(values.map((v) => ALPHABET[v]).join(''));
}

/** The canonical XXXX-XXXX-XXXX-XXXX-XX form; ReceiptTypo on any typo (no KDF work here). */
export function normaliseReceipt(text) {
  if (typeof text !== 'string' || [...text].length > MAX_INPUT) {
    throw new ReceiptTypo('not a receipt code');
  }
  const symbols = [...text.normalize('NFKC').toUpperCase().replace(DROPPED, '')]
    .map((c) => LOOK_ALIKES[c] ?? c)
    .join('');
  if ([...symbols].length !== DATA_SYMBOLS + 1) {
    throw new ReceiptTypo(`a receipt code has ${DATA_SYMBOLS + 1} characters`);
  }
  const values = [...symbols].map((c) => ALPHABET.indexOf(c));
  if (values.includes(-1)) throw new ReceiptTypo('a receipt code uses only digits and letters');
  if (horner(values)) throw new ReceiptTypo('the receipt code has a typo');
  return group(symbols);
}

/** What a receipt opens (crypto/receipt.py's derive_receipt_identity): master =
 * Argon2id(canonical receipt, installSalt, params); lookupId = hex(subkey "receipt-lookup"); the
 * X25519 pair from subkey "receipt-x25519" (crypto_box_seed_keypair); the Ed25519 signing seed
 * subkey "receipt-signing". `params` is required: RECEIPT_PARAMS in the portal. Typos throw
 * ReceiptTypo before any Argon2id work. Resolves to {receipt, lookupId, privateKey, publicKey,
 * signingSeed, signingPublicKey}. */
export async function deriveReceiptIdentity(receipt, installSalt, params, onProgress) {
  const canonical = normaliseReceipt(receipt);
  requireBytes(installSalt, SALT_SIZE, 'installSalt');
  checkKdfParams(params);
  const master = await argon2id(utf8(canonical), installSalt, params, onProgress);
  const { privateKey, publicKey } = keypairFromSeed(deriveSubkey(master, 'receipt-x25519'));
  const signingSeed = deriveSubkey(master, 'receipt-signing');
  return {
    receipt: canonical,
    lookupId: toHex(deriveSubkey(master, 'receipt-lookup')),
    privateKey,
    publicKey,
    signingSeed,
    signingPublicKey: ed25519PublicKey(signingSeed),
  };
}

/** Canonical JSON as Python's json.dumps(sort_keys=True, separators=(",", ":"),
 * ensure_ascii=True): ASCII bytes. Values: strings, safe integers, null, arrays, plain objects. */
export function canonicalJson(value) {
  return utf8(canonicalText(value));
}

function canonicalText(value) {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('only whole numbers in canonical JSON');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalText).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${canonicalText(k)}:${canonicalText(value[k])}`).join(',')}}`;
}

export const CONSENT_CONTEXT = 'protected-disclosure-consent/1\n';

/** The consent statement (crypto/consent.py's consent_statement), without the context line. */
export function consentStatement(caseId, seq, answer, day, recipient, reason) {
  if (answer !== 'yes' && answer !== 'no') throw new TypeError("a consent answer is 'yes' or 'no'");
  if (!Number.isSafeInteger(seq) || seq < 1) throw new TypeError('seq must be a whole number >= 1');
  if (typeof caseId !== 'string' || !caseId) throw new TypeError('caseId must be non-empty');
  if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    throw new TypeError('day must be YYYY-MM-DD');
  }
  if (typeof recipient !== 'string' || !recipient) throw new TypeError('recipient must be non-empty');
  if (typeof reason !== 'string') throw new TypeError('reason must be a string');
  return canonicalJson({
    answer,
    case_id: caseId,
    day,
    format: 'protected-disclosure-consent/1',
    reason,
    recipient,
    seq,
  });
}

function consentMessage(statement) {
  const context = utf8(CONSENT_CONTEXT);
  const message = new Uint8Array(context.length + statement.length);
  message.set(context);
  message.set(statement, context.length);
  return message;
}

/** The 64-byte Ed25519 signature by the receipt's signing seed over a consent answer. */
export function signConsent(seed, caseId, seq, answer, day, recipient, reason) {
  const statement = consentStatement(caseId, seq, answer, day, recipient, reason);
  return signEd25519(seed, consentMessage(statement));
}

/** Whether signature is publicKey's (strictly, as libsodium) over this consent answer. */
export function verifyConsent(publicKey, caseId, seq, answer, day, recipient, reason, signature) {
  try {
    const statement = consentStatement(caseId, seq, answer, day, recipient, reason);
    return verifyEd25519(publicKey, signature, consentMessage(statement));
  } catch {
    return false;
  }
}

/** commitment_salt: deriveSubkey(caseKey, "ack-salt"). */
export function commitmentSalt(caseKey) {
  return deriveSubkey(requireBytes(caseKey, 32, 'caseKey'), 'ack-salt');
}

/** commit: BLAKE2b-256(key = salt, person "ack-commitment", message = lp(parts)). */
export function commit(salt, parts) {
  return blake2bKdf(requireBytes(salt, 32, 'salt'), 'ack-commitment', lp(...parts.map((p) => utf8(p, 'part'))));
}
