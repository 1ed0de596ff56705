// Test driver: reads a JSON list of calls on stdin, runs each on static/seal/portal-crypto.js and
// prints a JSON list of results. Bytes travel as {"hex": "..."} both ways; an error comes back as
// {"error": its class name, "message": ...}. A few calls are compositions the tests need
// (streams fed in pieces, vectors of server-only formats built from the same exports).
import * as pc from '../../static/seal/portal-crypto.js';
import { SecretStreamPull, SecretStreamPush } from '../../static/seal/crypto/secretstream.js';

const encoder = new TextEncoder();

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    if ('hex' in value) return pc.fromHex(value.hex);
    if ('text' in value) return encoder.encode(value.text);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

function encode(value) {
  if (value instanceof Uint8Array) return { hex: pc.toHex(value) };
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value === undefined ? null : value;
}

function* pieces(bytes, sizes) {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function collect(iterable) {
  const parts = [];
  for await (const p of iterable) parts.push(p);
  return Buffer.concat(parts);
}

const EXTRA = {
  // The bundle's roots as a plain object (a Map does not cross JSON).
  rootsFromBundle: (release, manifest, signature) =>
    Object.fromEntries(pc.verifyBundle(release, manifest, signature).roots),
  rootsDifferingFrom: (signed, served) =>
    pc.rootsDiffering(new Map(Object.entries(signed)), new Map(Object.entries(served))),
  // The blob of `plaintext` written in pieces of the given sizes (cycled), one blob.
  encryptBlob: async (key, ad, plaintext, sizes, header) =>
    new Uint8Array(await collect(pc.encryptBlob(key, ad, pieces(plaintext, sizes), { header }))),
  decryptBlob: async (key, ad, blob, sizes) =>
    new Uint8Array(await collect(pc.decryptBlob(key, ad, pieces(blob, sizes)))),
  // A file of `size` pseudo-random bytes (an LCG, made piece by piece) through a StreamEncryptor
  // in 64 KiB pieces, each output dropped as it comes: returns the blob's length, the most
  // resident memory seen and (under --expose-gc) the array-buffer bytes alive before and, at most,
  // after a collection every `every` pieces: their difference is what the encryptor holds on to.
  encryptLarge: async (key, ad, size, every = 64) => {
    globalThis.gc?.();
    const baseLive = process.memoryUsage().arrayBuffers;
    const enc = new pc.StreamEncryptor(key, ad);
    let length = enc.header.length;
    let peakRss = 0;
    let peakLive = 0;
    const piece = new Uint8Array(64 * 1024);
    let x = 1;
    for (let done = 0, n = 0; done < size; done += piece.length, n++) {
      for (let i = 0; i < piece.length; i++) piece[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      for (const c of enc.write(piece.subarray(0, Math.min(piece.length, size - done)))) {
        length += c.length;
      }
      if (n % every === 0) {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        if (globalThis.gc) {
          globalThis.gc();
          peakLive = Math.max(peakLive, process.memoryUsage().arrayBuffers);
        }
      }
    }
    for (const c of enc.close()) length += c.length;
    return { length, peakRss, baseLive, peakLive };
  },
  wrapPrivateKey: async (privateKey, passphrase, params, salt, nonce) => {
    const p = new Uint8Array(8);
    new DataView(p.buffer).setUint32(0, params.opslimit);
    new DataView(p.buffer).setUint32(4, params.memlimit / 1024);
    const ad = Uint8Array.from([1, 1, ...p, ...salt]);
    const kek = await pc.argon2id(encoder.encode(passphrase.normalize('NFC')), salt, params);
    return Uint8Array.from([...ad, ...nonce, ...pc.aeadEncrypt(kek, nonce, privateKey, ad)]);
  },
  sessionHalf: (sessionKey, nonce, secret) =>
    Uint8Array.from([1, 5, ...nonce, ...pc.aeadEncrypt(sessionKey, nonce, secret, Uint8Array.of(1, 5))]),
  auditLink: (key, previous, fields) =>
    pc.blake2bKdf(key, 'audit-link', Uint8Array.from([...previous, ...pc.lp(...fields)])),
  hmacSha256: async (key, message) => {
    const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    return new Uint8Array(await crypto.subtle.sign('HMAC', k, message));
  },
  // libsodium's secretstream itself (no portal framing): chunks pushed with the given tags.
  rawPush: (key, header, messages, tags, ad) => {
    const push = new SecretStreamPush(key, { header });
    return messages.map((m, i) => push.push(m, ad, tags[i]));
  },
  rawPull: (key, header, chunks, ad) => {
    const pull = new SecretStreamPull(key, header);
    return chunks.map((c) => pull.pull(c, ad));
  },
  // verifyRosterChain with its result reduced to what the tests compare with crypto.verify_chain.
  verifyRoster: (pinned, channel, statements) => {
    const r = pc.verifyRosterChain(pinned, channel, statements);
    return { ok: r.ok, badSeq: r.badSeq, length: r.length, head: r.head, root: r.root,
      recoveryKey: r.recoveryKey, recoverySigningKey: r.recoverySigningKey, problem: r.problem,
      readers: r.readers.map((x) => [x.officer, x.key, x.signingKey, x.sinceDay]) };
  },
  sha256Pieces: (bytes, sizes) => {
    const h = pc.newSha256();
    for (const p of pieces(bytes, sizes)) h.update(p);
    return h.digest();
  },
  engine: () => ({ webAssembly: typeof WebAssembly }),
  text: (bytes) => new TextDecoder().decode(bytes),
};

const calls = JSON.parse(await collect(process.stdin));
const results = [];
for (const { fn, args } of calls) {
  const f = EXTRA[fn] ?? pc[fn];
  try {
    if (typeof f !== 'function') throw new TypeError(`no function ${fn}`);
    results.push(encode(await f(...decode(args ?? []))));
  } catch (error) {
    results.push({ error: error.constructor.name, message: String(error.message) });
  }
}
process.stdout.write(JSON.stringify(results));
