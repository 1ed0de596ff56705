// libsodium's crypto_secretstream_xchacha20poly1305, built from noble's ChaCha20, HChaCha20 and
// Poly1305 exactly as libsodium's secretstream/xchacha20poly1305.c does (the portal's file blobs,
// kind 0x04, are made of it: crypto/stream.py). State: a 32-byte key k = HChaCha20(key,
// header[0..16]) and a 12-byte nonce = counter (u32 LE, from 1) || inonce (header[16..24]). A
// chunk is the encrypted tag byte, the ciphertext and a Poly1305 MAC over ad, padding, the 64-byte
// encrypted tag block, the ciphertext, padding and both lengths (u64 LE); after each chunk the
// inonce is XORed with the MAC's first 8 bytes and the counter grows; a REKEY tag, or the counter
// wrapping to 0, rekeys.
import { chacha20, hchacha } from '../vendor/ciphers/chacha.js';
import { poly1305 } from '../vendor/ciphers/_poly1305.js';
import { DecryptionError, equalBytes, randomBytes, requireBytes } from './format.js';

export const HEADER_BYTES = 24;
export const ABYTES = 17;
export const TAG_MESSAGE = 0;
export const TAG_PUSH = 1;
export const TAG_REKEY = 2;
export const TAG_FINAL = TAG_PUSH | TAG_REKEY;

const SIGMA = new Uint32Array(new TextEncoder().encode('expand 32-byte k').buffer);
const ZEROS = new Uint8Array(16);

function words(bytes) {
  return new Uint32Array(Uint8Array.from(bytes).buffer);
}

function hchacha20(key, nonce16) {
  const out = new Uint32Array(8);
  hchacha(SIGMA, words(key), words(nonce16), out);
  return new Uint8Array(out.buffer);
}

function u64le(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

class State {
  constructor(key, head) {
    requireBytes(key, 32, 'key');
    requireBytes(head, HEADER_BYTES, 'header');
    this.k = hchacha20(key, head.subarray(0, 16));
    this.nonce = new Uint8Array(12);
    this.nonce[0] = 1;
    this.nonce.set(head.subarray(16, 24), 4);
  }

  rekey() {
    const material = new Uint8Array(40);
    material.set(this.k);
    material.set(this.nonce.subarray(4), 32);
    const fresh = chacha20(this.k, this.nonce, material);
    this.k = fresh.slice(0, 32);
    this.nonce.fill(0, 0, 4);
    this.nonce[0] = 1;
    this.nonce.set(fresh.subarray(32), 4);
  }

  // The MAC over (ad, encrypted tag block, ciphertext), as libsodium's push and pull compute it.
  mac(ad, block, ciphertext) {
    const polyKey = chacha20(this.k, this.nonce, new Uint8Array(32));
    const mac = poly1305.create(polyKey);
    mac.update(ad).update(ZEROS.subarray(0, (16 - (ad.length % 16)) % 16));
    mac.update(block).update(ciphertext);
    // libsodium pads by (0x10 - 64 + mlen) & 0xf, that is mlen mod 16 bytes (not the AEAD's
    // 16 - mlen mod 16): kept as libsodium has it, since that is what its blobs carry.
    mac.update(ZEROS.subarray(0, ciphertext.length % 16));
    mac.update(u64le(ad.length)).update(u64le(64 + ciphertext.length));
    return mac.digest();
  }

  advance(tag, macBytes) {
    for (let i = 0; i < 8; i++) this.nonce[4 + i] ^= macBytes[i];
    const view = new DataView(this.nonce.buffer);
    const counter = (view.getUint32(0, true) + 1) >>> 0;
    view.setUint32(0, counter, true);
    if (tag & TAG_REKEY || counter === 0) this.rekey();
  }
}

/** The pushing side: `header` (24 random bytes, sent first), then push(m, ad, tag) per chunk,
 * each giving 17 + m.length bytes. `options.header` replays a stream (the same key, header and
 * messages give the same chunks): to resume one, or in tests. */
export class SecretStreamPush {
  constructor(key, options = {}) {
    this.header = options.header ?? randomBytes(HEADER_BYTES);
    this.state = new State(key, this.header);
  }

  push(message, ad, tag) {
    requireBytes(message, null, 'message');
    const st = this.state;
    const block = new Uint8Array(64);
    block[0] = tag;
    const encryptedBlock = chacha20(st.k, st.nonce, block, undefined, 1);
    const out = new Uint8Array(ABYTES + message.length);
    out[0] = encryptedBlock[0];
    const ciphertext = chacha20(st.k, st.nonce, message, out.subarray(1, 1 + message.length), 2);
    const macBytes = st.mac(ad, encryptedBlock, ciphertext);
    out.set(macBytes, 1 + message.length);
    st.advance(tag, macBytes);
    return out;
  }
}

/** The pulling side: pull(chunk, ad) gives {message, tag}, or DecryptionError if the chunk is
 * forged, altered, dropped, repeated or out of order (the state is then unusable). */
export class SecretStreamPull {
  constructor(key, head) {
    this.state = new State(key, head);
  }

  pull(chunk, ad) {
    requireBytes(chunk, null, 'chunk');
    if (chunk.length < ABYTES) throw new DecryptionError('secretstream: chunk too short');
    const st = this.state;
    const length = chunk.length - ABYTES;
    const block = new Uint8Array(64);
    block[0] = chunk[0];
    const plainBlock = chacha20(st.k, st.nonce, block, undefined, 1);
    const tag = plainBlock[0];
    const encryptedBlock = plainBlock;
    encryptedBlock[0] = chunk[0];
    const ciphertext = chunk.subarray(1, 1 + length);
    const macBytes = st.mac(ad, encryptedBlock, ciphertext);
    if (!equalBytes(macBytes, chunk.subarray(1 + length))) {
      throw new DecryptionError('secretstream: chunk failed authentication');
    }
    const message = chacha20(st.k, st.nonce, ciphertext, undefined, 2);
    st.advance(tag, macBytes);
    return { message, tag };
  }
}
