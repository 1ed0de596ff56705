// The signed manifest of the sealing page's bundle, checked in the browser as crypto/bundle.py
// checks it (SECURITY.md, "The sealing page's signed bundle"): the detached Ed25519 signature by
// the release key over the manifest object's canonical JSON, the release key file's own hash as
// the manifest lists it, and the roster roots under portal_bundle.roots. Every input is untrusted
// bytes; anything odd is a BundleError with a plain message, never a partial answer.
import { sha256 } from '../vendor/hashes/sha2.js';
import { CryptoError, equalBytes, fromHex } from './format.js';
import { checkEd25519Public, keyFingerprint, verifyEd25519 } from './keys.js';
import { canonicalJson } from './receipt.js';

export const BUNDLE_FORMAT = 1;
export const BUNDLE_SIGNATURE_FORMAT = 'portal-bundle-ed25519-v1';
export const RELEASE_KEY_PATH = '/static/seal/release-key.json';

export class BundleError extends CryptoError {}

const decoder = new TextDecoder('utf-8', { fatal: true });

function parsed(bytes, what) {
  try {
    const value = JSON.parse(decoder.decode(bytes));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // fall through to the plain message
  }
  throw new BundleError(`${what} is not readable`);
}

function hexBytes(value, size, what) {
  if (typeof value !== 'string' || value.length !== 2 * size || !/^[0-9a-f]*$/.test(value)) {
    throw new BundleError(`${what} is not readable`);
  }
  return fromHex(value);
}

function ed25519Key(bytes, what) {
  try {
    return checkEd25519Public(bytes, what);
  } catch {
    throw new BundleError(`${what} is not a valid Ed25519 key`);
  }
}

/** The release public key (32 bytes) from release-key.json's bytes. BundleError if unreadable. */
export function releaseKeyOf(releaseKeyBytes) {
  const doc = parsed(releaseKeyBytes, 'the release key file');
  if (doc.format !== BUNDLE_SIGNATURE_FORMAT) throw new BundleError('the release key file is not readable');
  return ed25519Key(hexBytes(doc.public_key, 32, 'the release key file'), 'the release public key');
}

/** The canonical bytes the release key signs (crypto.bundle.canonical_bytes). */
export function manifestCanonicalBytes(manifest) {
  try {
    return canonicalJson(manifest);
  } catch {
    throw new BundleError('the manifest is not readable');
  }
}

/**
 * Verify the bundle's manifest and return what it vouches for.
 * releaseKeyBytes, manifestBytes, signatureBytes: the three files' bytes as served
 * (release-key.json, bundle-manifest.json, bundle-manifest.json.sig).
 * Returns {version: string, releaseKey: 32 bytes, fingerprint: 'XXXX-...',
 * roots: Map(channel id string -> 32-byte root), files: Map(path -> 32-byte SHA-256)}.
 * Throws BundleError when the signature is by another key or does not verify, the manifest's
 * hash of release-key.json differs from the bytes served, or anything is malformed.
 */
export function verifyBundle(releaseKeyBytes, manifestBytes, signatureBytes) {
  const releaseKey = releaseKeyOf(releaseKeyBytes);
  const sig = parsed(signatureBytes, 'the signature file');
  if (sig.format !== BUNDLE_SIGNATURE_FORMAT) throw new BundleError(`the signature file's format is not ${BUNDLE_SIGNATURE_FORMAT}`);
  const named = hexBytes(sig.public_key, 32, 'the signature file');
  const signature = hexBytes(sig.signature, 64, 'the signature file');
  if (!equalBytes(named, releaseKey)) {
    throw new BundleError(`the manifest is signed by another key (${keyFingerprint(named)}), not the release key ${keyFingerprint(releaseKey)}`);
  }
  const manifest = parsed(manifestBytes, 'the manifest').manifest;
  if (!manifest || typeof manifest !== 'object' || Array.isArray(manifest)) throw new BundleError('the manifest is not readable');
  if (!verifyEd25519(releaseKey, signature, manifestCanonicalBytes(manifest))) {
    throw new BundleError("the manifest's signature does not verify: it was changed after it was signed");
  }
  // Signed, so from the release; still read strictly, so a signed-but-odd manifest fails plainly.
  const extra = manifest.portal_bundle;
  if (!extra || typeof extra !== 'object' || extra.format !== BUNDLE_FORMAT) throw new BundleError(`the manifest's format is not ${BUNDLE_FORMAT}`);
  const hashes = extra.sha256_hex;
  if (!hashes || typeof hashes !== 'object') throw new BundleError('the manifest is not readable');
  const files = new Map();
  for (const [path, hex] of Object.entries(hashes)) files.set(path, hexBytes(hex, 32, 'the manifest'));
  const listed = files.get(RELEASE_KEY_PATH);
  if (!listed) throw new BundleError('the manifest does not list the release key file');
  if (!equalBytes(listed, sha256(releaseKeyBytes))) throw new BundleError('the release key file is not the one the manifest lists');
  const roots = new Map();
  if (!extra.roots || typeof extra.roots !== 'object' || Array.isArray(extra.roots)) throw new BundleError('the manifest is not readable');
  for (const [channel, entry] of Object.entries(extra.roots)) {
    if (!/^[1-9][0-9]{0,15}$/.test(channel) || !entry || typeof entry !== 'object') throw new BundleError('the manifest is not readable');
    roots.set(channel, ed25519Key(hexBytes(entry.root, 32, 'the manifest'), `channel ${channel}'s root`));
  }
  if (typeof manifest.version !== 'string') throw new BundleError('the manifest is not readable');
  return { version: manifest.version, releaseKey, fingerprint: keyFingerprint(releaseKey), roots, files };
}

/**
 * Channel ids whose root differs between the signed manifest and what the server says
 * (GET /disclose/sealed/roots), sorted: a channel in one and not the other counts.
 * signed, served: Map(channel id string -> 32-byte root).
 */
export function rootsDiffering(signed, served) {
  const ids = new Set([...signed.keys(), ...served.keys()]);
  return [...ids].filter((id) => !(signed.has(id) && served.has(id) && equalBytes(signed.get(id), served.get(id)))).sort();
}
