// A channel's signed roster (crypto/roster.py and crypto/roster_format.py; SECURITY.md, "Signed
// roster"), verified in the browser from the pinned root, so the page seals a case key only to keys
// the verified roster admits. Every rule in the same order as crypto/roster.py: it never throws for
// a bad chain, it stops at the first statement that fails and says why.
import { blake2b } from '../vendor/hashes/blake2.js';
import {
  CryptoError,
  KeyRejected,
  deriveSubkey,
  equalBytes,
  fromHex,
  person,
  requireBytes,
  toHex,
  utf8,
} from './format.js';
import { checkEd25519Public, checkX25519Public, ed25519PublicKey, keyFingerprint,
  verifyEd25519 } from './keys.js';
import { canonicalJson } from './receipt.js';

export const SIGNATURE_CONTEXT = 'protected-disclosure-roster/1\n';
export const GENESIS = new Uint8Array(32);
const KINDS = ['root', 'admit', 'replace', 'remove', 'recovery', 'handover'];
const MAX_BODY_BYTES = 1024;
const MAX_SIGNATURES = 256;
// Which of officer / key / signing_key each kind carries: true required, false null, null either.
const SHAPE = {
  root: [true, true, true],
  admit: [true, true, true],
  replace: [true, true, true],
  remove: [true, false, false],
  recovery: [false, true, null],
  handover: [true, false, true],
};
// The only shape a canonical body can have (keys sorted, no spaces); numbers and hex are checked
// again by re-encoding, as crypto/roster_format.py's decode_statement does.
const BODY = new RegExp(
  '^\\{"channel":(0|[1-9][0-9]*),"day":"([^"\\\\]*)","key":(null|"[^"\\\\]*"),"kind":"([a-z]*)",' +
    '"officer":(null|0|[1-9][0-9]*),"prev":"([^"\\\\]*)","seq":(0|[1-9][0-9]*),' +
    '"signing_key":(null|"[^"\\\\]*"),"v":(0|[1-9][0-9]*)\\}$',
);

/** A statement, key or signature that is malformed (crypto/roster_format.py's RosterError). */
export class RosterError extends CryptoError {}

// Ids are 1 to 2^63 - 1 in the format; this code holds them as numbers, so one beyond 2^53 - 1
// (no SQLite rowid gets there) is refused: the browser then seals to nobody on that roster.
function identifier(value, name, nullable = false) {
  if (value === null && nullable) return null;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RosterError(`${name} must be an integer from 1 to 2^53 - 1 here`);
  }
  return value;
}

function realDay(day) {
  const m = typeof day === 'string' && /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(day);
  if (!m) throw new RosterError('day must be YYYY-MM-DD');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  if (y < 1 || !days || d < 1 || d > days) throw new RosterError(`day ${day} is not a date`);
  return day;
}

function optionalKey(value, wanted, kind, name, check) {
  if (value === null) {
    if (wanted) throw new RosterError(`a ${kind} statement needs ${name}`);
    return null;
  }
  if (wanted === false) throw new RosterError(`a ${kind} statement has no ${name}`);
  try {
    return check(value, name);
  } catch (error) {
    throw error instanceof KeyRejected ? new RosterError(error.message) : error;
  }
}

/** The canonical body (ASCII bytes) of a statement, as crypto's encode_statement; RosterError for
 * anything malformed. Keys are Uint8Array(32) or null. */
export function encodeStatement({ channel, seq, prev, kind, officer, key, signingKey, day }) {
  channel = identifier(channel, 'channel');
  seq = identifier(seq, 'seq');
  if (!(prev instanceof Uint8Array) || prev.length !== 32) throw new RosterError('prev must be 32 bytes');
  if ((seq === 1) !== equalBytes(prev, GENESIS)) {
    throw new RosterError('prev must be 32 zero bytes for seq 1, and only for seq 1');
  }
  if (!KINDS.includes(kind)) throw new RosterError(`unknown statement kind ${kind}`);
  if ((seq === 1) !== (kind === 'root')) {
    throw new RosterError('a chain starts with its root statement, and has only that one');
  }
  const [wantsOfficer, wantsKey, wantsSigning] = SHAPE[kind];
  officer = identifier(officer, 'officer', !wantsOfficer);
  if (officer !== null && !wantsOfficer) throw new RosterError(`a ${kind} statement names no officer`);
  key = optionalKey(key, wantsKey, kind, 'key', checkX25519Public);
  signingKey = optionalKey(signingKey, wantsSigning, kind, 'signing_key', checkEd25519Public);
  const body = canonicalJson({
    v: 1,
    channel,
    seq,
    prev: toHex(prev),
    kind,
    officer,
    key: key === null ? null : toHex(key),
    signing_key: signingKey === null ? null : toHex(signingKey),
    day: realDay(day),
  });
  if (body.length > MAX_BODY_BYTES) throw new RosterError('statement body too long');
  return body;
}

function hex32(text, name) {
  const value = text === 'null' ? null : text.slice(1, -1);
  if (value !== null && !/^[0-9a-f]{64}$/.test(value)) {
    throw new RosterError(`${name} must be 64 lower-case hexadecimal characters`);
  }
  return value === null ? null : fromHex(value);
}

/** Parse a body; RosterError unless it is exactly the canonical bytes encodeStatement makes. */
export function decodeStatement(body) {
  if (!(body instanceof Uint8Array)) throw new RosterError('a statement body must be bytes');
  if (body.length > MAX_BODY_BYTES) throw new RosterError('statement body too long');
  if (body.some((b) => b > 0x7f)) throw new RosterError('statement body is not ASCII JSON');
  const m = BODY.exec(String.fromCharCode(...body));
  if (!m) throw new RosterError('statement body is not in its canonical form');
  if (m[9] !== '1') throw new RosterError(`unknown statement version ${m[9]}`);
  const number = (text) => (text === 'null' ? null : Number(text));
  const statement = {
    channel: number(m[1]),
    day: m[2],
    key: hex32(m[3], 'key'),
    kind: m[4],
    officer: number(m[5]),
    prev: hex32(`"${m[6]}"`, 'prev'),
    seq: number(m[7]),
    signingKey: hex32(m[8], 'signing_key'),
  };
  if (!equalBytes(encodeStatement(statement), body)) {
    throw new RosterError('statement body is not in its canonical form');
  }
  return statement;
}

/** BLAKE2b-256(body, person "roster-link"), unkeyed: the next statement's prev. */
export function statementHash(body) {
  return blake2b(requireBytes(body, null, 'body'), { dkLen: 32, personalization: person('roster-link') });
}

/** Signer (32) || signature (64) records, as the portal stores them, to [[signer, signature]]. */
export function unpackSignatures(blob) {
  if (!(blob instanceof Uint8Array) || blob.length % 96) {
    throw new RosterError('packed signatures must be a whole number of 96-byte records');
  }
  const out = [];
  for (let i = 0; i < blob.length; i += 96) out.push([blob.slice(i, i + 32), blob.slice(i + 32, i + 96)]);
  return out;
}

/** The custodians' Ed25519 public key of a recovery secret (subkey "roster-custodian"). */
export function custodiansSigningPublic(recoverySecret) {
  return ed25519PublicKey(deriveSubkey(recoverySecret, 'roster-custodian'));
}

class Refused extends Error {}

const hexKey = (bytes) => toHex(bytes);

function signersOf(signed) {
  let pairs = signed.signatures;
  if (pairs instanceof Uint8Array) pairs = unpackSignatures(pairs);
  if (!Array.isArray(pairs) || pairs.length < 1 || pairs.length > MAX_SIGNATURES) {
    throw new Refused(`it needs 1 to ${MAX_SIGNATURES} signatures`);
  }
  const message = new Uint8Array([...utf8(SIGNATURE_CONTEXT), ...signed.body]);
  const signers = new Set();
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new Refused('a signature is not a (signer, signature) pair');
    }
    const signer = optionalKey(pair[0], true, 'signed', 'signer', checkEd25519Public);
    const signature = pair[1];
    if (!(signature instanceof Uint8Array) || signature.length !== 64) {
      throw new Refused('a signature is not 64 bytes');
    }
    if (signers.has(hexKey(signer))) throw new Refused('the same key signed it twice');
    if (!verifyEd25519(signer, signature, message)) {
      throw new Refused(`the signature by ${hexKey(signer)} does not verify`);
    }
    signers.add(hexKey(signer));
  }
  return signers;
}

function current(state, officer) {
  const reader = state.readers.get(officer);
  if (!reader) throw new Refused(`officer ${officer} does not read the channel`);
  return reader;
}

function checkUnique(state, s) {
  for (const other of state.readers.values()) {
    if (other.officer === s.officer) continue;
    if (equalBytes(other.key, s.key)) throw new Refused(`its key is officer ${other.officer}'s key`);
    if (equalBytes(other.signingKey, s.signingKey)) {
      throw new Refused(`its signing key is officer ${other.officer}'s signing key`);
    }
  }
  if (state.recoveryKey && equalBytes(s.key, state.recoveryKey)) {
    throw new Refused("its key is the channel's recovery key");
  }
  if (state.recoverySigningKey && equalBytes(s.signingKey, state.recoverySigningKey)) {
    throw new Refused("its signing key is the custodians' signing key");
  }
}

function reader(s, sinceDay = s.day) {
  return { officer: s.officer, key: s.key, signingKey: s.signingKey, sinceDay };
}

function apply(state, s, signers) {
  const readerKeys = new Map([...state.readers.values()].map((r) => [hexKey(r.signingKey), r.officer]));
  const root = hexKey(state.root);
  const holder = readerKeys.get(root) ?? null;
  if (s.kind === 'root') {
    if (!equalBytes(s.signingKey, state.root)) throw new Refused('its signing key is not the pinned root');
    if (signers.size !== 1 || !signers.has(root)) {
      throw new Refused('a root statement is signed by the pinned root, and only by it');
    }
    state.readers.set(s.officer, reader(s));
    return;
  }
  if (s.kind === 'handover') {
    const target = current(state, s.officer);
    if (!equalBytes(target.signingKey, s.signingKey)) {
      throw new Refused(`its signing key is not officer ${s.officer}'s current signing key`);
    }
    if (s.officer === holder) throw new Refused(`officer ${s.officer} holds the root already`);
    const custodians = state.recoverySigningKey ? hexKey(state.recoverySigningKey) : null;
    const strangers = [...signers].filter((k) => !readerKeys.has(k) && k !== root && k !== custodians);
    if (strangers.length) {
      throw new Refused(`signed by ${strangers.sort()[0]}, which may not sign a handover`);
    }
    const others = [...readerKeys].filter(([, o]) => o !== holder).map(([k]) => k);
    const byOthers = others.filter((k) => signers.has(k)).length;
    if (!signers.has(root) && !(custodians && signers.has(custodians)) && 2 * byOthers <= others.length) {
      throw new Refused(`signed by ${byOthers} of the ${others.length} other readers: a handover needs` +
        ' the root, a majority of the other readers, or the custodians');
    }
    state.root = s.signingKey;
    return;
  }
  const strangers = [...signers].filter((k) => !readerKeys.has(k));
  if (strangers.length) {
    throw new Refused(`signed by ${strangers.sort()[0]}, not a current reader's signing key`);
  }
  if (s.kind === 'admit') {
    if (state.readers.has(s.officer)) throw new Refused(`officer ${s.officer} already reads the channel`);
    checkUnique(state, s);
    state.readers.set(s.officer, reader(s));
  } else if (s.kind === 'replace') {
    const was = current(state, s.officer);
    checkUnique(state, s);
    if (s.officer === holder && !equalBytes(was.signingKey, s.signingKey)) {
      if (!signers.has(root)) {
        throw new Refused("the root holder's signing key is replaced only with the root's signature" +
          ' (or after a handover)');
      }
      state.root = s.signingKey;
    }
    state.readers.set(s.officer, reader(s, was.sinceDay));
  } else if (s.kind === 'remove') {
    current(state, s.officer);
    if (s.officer === holder) {
      throw new Refused(`officer ${s.officer} holds the root: hand it over before removing them`);
    }
    state.readers.delete(s.officer);
  } else if (s.kind === 'recovery') {
    if ([...state.readers.values()].some((r) => equalBytes(r.key, s.key))) {
      throw new Refused("the recovery key is a reader's key");
    }
    if (s.signingKey !== null && readerKeys.has(hexKey(s.signingKey))) {
      throw new Refused("the custodians' signing key is a reader's signing key");
    }
    state.recoveryKey = s.key;
    state.recoverySigningKey = s.signingKey;
  }
}

function pinnedRootKey(pinned, statements) {
  // A fingerprint pins the key statement 1 names, if the fingerprint is that key's.
  if (typeof pinned !== 'string') return checkEd25519Public(pinned, 'pinned root');
  const first = statements[0];
  const named = first ? decodeStatement(first.body).signingKey : null;
  if (named === null || keyFingerprint(named) !== pinned) {
    throw new KeyRejected('the first statement does not name the key of the pinned fingerprint');
  }
  return checkEd25519Public(named, 'pinned root');
}

/** Verify a channel's roster from its pinned root (crypto.verify_chain): `pinned` is the 32-byte
 * Ed25519 root key, or its fingerprint ("ABCD-EFGH-IJKL-MNOP-QRST") as /keys shows it;
 * `statements` are {body: Uint8Array, signatures: [[signer, signature], ...] or the packed
 * 96-byte records}, in order. Never throws for a bad chain or root: gives {ok, problem, badSeq,
 * readers: [{officer, key, signingKey, sinceDay}], recoveryKey, recoverySigningKey, root, length,
 * head, sealingKeys} for the valid prefix. */
export function verifyRosterChain(pinned, channel, statements) {
  const state = { readers: new Map(), recoveryKey: null, recoverySigningKey: null, root: GENESIS };
  let head = GENESIS;
  let length = 0;
  const result = (problem, badSeq) => {
    const readers = [...state.readers.values()].sort((a, b) => a.officer - b.officer);
    const sealingKeys = readers.map((r) => r.key).concat(state.recoveryKey ? [state.recoveryKey] : []);
    return { ok: problem === null, problem, badSeq, readers, recoveryKey: state.recoveryKey,
      recoverySigningKey: state.recoverySigningKey, root: state.root, length, head, sealingKeys };
  };
  if (!Array.isArray(statements)) return result('the statements are not a list', 1);
  try {
    state.root = pinnedRootKey(pinned, statements);
  } catch (error) {
    return result(`the pinned root is unusable: ${error.message}`, statements.length ? 1 : null);
  }
  for (let position = 1; position <= statements.length; position++) {
    const signed = statements[position - 1];
    try {
      if (!signed || !(signed.body instanceof Uint8Array)) throw new Refused('not a signed statement');
      const s = decodeStatement(signed.body);
      if (s.channel !== channel) throw new Refused(`it is for channel ${s.channel}, not ${channel}`);
      if (s.seq !== position) throw new Refused(`its seq is ${s.seq}, expected ${position}`);
      if (!equalBytes(s.prev, head)) throw new Refused('its prev is not the hash of the statement before');
      apply(state, s, signersOf(signed));
    } catch (error) {
      // Whatever the page was handed (it treats every fetched JSON as untrusted), a statement
      // that cannot be checked is a statement that does not verify.
      return result(`statement ${position}: ${error.message}`, position);
    }
    head = statementHash(signed.body);
    length = position;
  }
  return result(null, null);
}

/** Whether a 32-byte X25519 key is one the verified roster admits (a reader's or the recovery
 * key): what the page asks before sealing a case key to it. */
export function rosterAdmits(verified, key) {
  return verified.ok && verified.sealingKeys.some((k) => equalBytes(k, key));
}
