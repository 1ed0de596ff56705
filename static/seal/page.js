// What the two sealing pages (disclose.html, status.html) share: talking JSON to the portal's
// sealed routes (docs/sealed-submission.md), reading what they answer as untrusted input, the
// proof of work, and plain-words messages. No DOM beyond the elements a page hands in.

// ---- words: what the page says, in the discloser's language ----------------------------------

// Said when the portal's words are not known (the first setup never came): the page itself is English.
const NOT_READY = 'This page could not get ready. Please reload it, or use the page that works without script.';
const WORD_LIMIT = 2000;
let words = new Map();

/** Take the setup's `words` (portal/web/intake/sealing_words.py), untrusted: text only, each bounded. */
export function learnWords(value) {
  if (!isObject(value)) return;
  const learnt = new Map();
  for (const [key, sentence] of Object.entries(value)) {
    if (typeof sentence === 'string' && sentence.length <= WORD_LIMIT) learnt.set(key, sentence);
  }
  words = learnt;
}

/** The sentence `key` in the discloser's language, its %(name)s filled from `values` as text. */
export function word(key, values = {}) {
  const sentence = words.get(key);
  if (sentence === undefined) return NOT_READY;
  return sentence.replace(/%\(([a-z_]+)\)s/g, (whole, name) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
}

/** The sentence `key` in the discloser's language, or `fallback` when the setup gave none. */
export function wordOr(key, fallback) {
  return words.has(key) ? word(key) : fallback;
}

const LANGUAGE_CODE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$/;

/** Puts the page's own text (the static HTML, English as shipped) in the discloser's language:
 * every element marked data-word="key" gets the sentence `key` as text, and data-word-label="key"
 * its aria-label. A child marked data-slot="name" (a link, a <strong>) stands where the sentence
 * says %(name)s, keeping its own words and attributes; one the sentence leaves out follows it. A key
 * the setup did not give leaves the English. `language` ({code, dir}, untrusted) sets <html lang dir>. */
export function wordThePage(language) {
  for (const element of document.querySelectorAll('[data-word-label]')) {
    if (words.has(element.dataset.wordLabel)) element.setAttribute('aria-label', word(element.dataset.wordLabel));
  }
  for (const element of document.querySelectorAll('[data-word]')) {
    const sentence = words.get(element.dataset.word);
    if (sentence === undefined) continue;
    const slots = new Map([...element.children].filter((c) => c.dataset.slot).map((c) => [c.dataset.slot, c]));
    const nodes = [];
    let last = 0;
    for (const match of sentence.matchAll(/%\(([a-z_]+)\)s/g)) {
      nodes.push(sentence.slice(last, match.index), slots.get(match[1]) ?? match[0]);
      slots.delete(match[1]);
      last = match.index + match[0].length;
    }
    nodes.push(sentence.slice(last));
    for (const left of slots.values()) nodes.push(' ', left);
    element.replaceChildren(...nodes);
  }
  if (isObject(language) && typeof language.code === 'string' && LANGUAGE_CODE.test(language.code)) {
    document.documentElement.lang = language.code.replace('_', '-');
    document.documentElement.dir = language.dir === 'rtl' ? 'rtl' : 'ltr';
  }
}

export class Refusal extends Error {
  // An answer of the portal that is not a success: `code` as the wire format names it.
  constructor(status, code, message, body) {
    super(message || word('not_taken'));
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

// ---- untrusted JSON: every value is checked for its type before use -------------------------

export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function text(value, what, max = 10000) {
  if (typeof value !== 'string' || value.length > max) throw new Refusal(0, 'malformed', word('bad_value', { what }));
  return value;
}

export function whole(value, what) {
  if (!Number.isSafeInteger(value) || value < 0) throw new Refusal(0, 'malformed', word('bad_value', { what }));
  return value;
}

export function list(value, what) {
  if (!Array.isArray(value)) throw new Refusal(0, 'malformed', word('bad_value', { what }));
  return value;
}

export function fromB64(value, what, size = null) {
  text(value, what, 8 * 1024 * 1024);
  let binary;
  try {
    binary = atob(value);
  } catch {
    throw new Refusal(0, 'malformed', word('bad_value', { what }));
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  if (size !== null && bytes.length !== size) throw new Refusal(0, 'malformed', word('bad_value', { what }));
  return bytes;
}

export function toB64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function day(value) {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw new Refusal(0, 'malformed', word('bad_value', { what: 'day' }));
  }
  return value;
}

// ---- the sealed routes ---------------------------------------------------------------------

// The portal's root, from where this module is served (<root>/static/seal/page.js), never a path
// from the origin's root: an organisation's pages under /o/<slug>/ (issue 29) reach that
// organisation's routes. Taken from the signed module itself, not from anything the server renders.
const PORTAL_ROOT = new URL('../../', import.meta.url);

/** The absolute address of the portal's route `path` ("disclose/sealed/setup", a leading "/" or not). */
export function portalUrl(path) {
  return new URL(String(path).replace(/^\/+/, ''), PORTAL_ROOT).href;
}

async function answerOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const code = isObject(body) && typeof body.error === 'string' ? body.error : 'failed';
    const message = isObject(body) && typeof body.message === 'string' ? body.message : null;
    const refusal = new Refusal(response.status, code, message, isObject(body) ? body : {});
    refusal.retryAfter = parseInt(response.headers.get('Retry-After') || '3', 10) || 3;
    throw refusal;
  }
  if (!isObject(body)) throw new Refusal(response.status, 'malformed', word('unreadable'));
  return body;
}

export async function getJson(path) {
  const response = await fetch(portalUrl(path), { credentials: 'same-origin', cache: 'no-store' });
  return answerOf(response);
}

export async function sendJson(method, path, csrf, body) {
  const response = await fetch(portalUrl(path), {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
    body: JSON.stringify(body),
  });
  return answerOf(response);
}

export async function putBytes(path, csrf, bytes) {
  const response = await fetch(portalUrl(path), {
    method: 'PUT',
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/octet-stream', 'X-CSRFToken': csrf },
    body: bytes,
  });
  return answerOf(response);
}

// ---- proof of work (portal/guard/proofs.py), as static/proof.js solves it --------------------

function zeroBits(bytes) {
  let bits = 0;
  for (const b of bytes) {
    if (b === 0) { bits += 8; continue; }
    let v = b;
    while ((v & 0x80) === 0) { bits++; v <<= 1; }
    return bits;
  }
  return bits;
}

/** {pow_challenge, pow_solution} for a setup's `proof`, or {} when it names no challenge. */
export async function solveProof(proof) {
  if (!isObject(proof) || typeof proof.challenge !== 'string' || !proof.challenge) return {};
  const challenge = text(proof.challenge, 'challenge', 500);
  const lane = Number.isSafeInteger(proof.lane_bits) ? proof.lane_bits : 0;
  const need = Math.min(32, Math.max(parseInt(challenge.split('.')[2], 10) || 0, lane));
  const encoder = new TextEncoder();
  for (let n = 0; ; n += 64) {
    const batch = [];
    for (let k = n; k < n + 64; k++) batch.push(crypto.subtle.digest('SHA-256', encoder.encode(`${challenge}:${k}`)));
    const digests = await Promise.all(batch);
    for (let j = 0; j < digests.length; j++) {
      if (zeroBits(new Uint8Array(digests[j])) >= need) return { pow_challenge: challenge, pow_solution: String(n + j) };
    }
  }
}

export function pause(seconds) {
  return new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(seconds, 0), 120) * 1000));
}

/** POST `body` with a solved proof; when the portal says to come back (503 come-back), wait as it
 * says and solve the fresh challenge it names, a few times. `say` tells the person why. */
export async function sendPaid(path, csrf, body, proof, say) {
  let paid = await solveProof(proof);
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendJson('POST', path, csrf, { ...body, ...paid });
    } catch (error) {
      if (!(error instanceof Refusal) || error.code !== 'come-back' || attempt >= 4) throw error;
      const wait = error.retryAfter || 3;
      say(word('busy', { why: error.message }));
      await pause(Math.min(wait, 30));
      paid = await solveProof(error.body.proof);
    }
  }
}

export function show(element, message) {
  element.textContent = message;
  element.hidden = false;
}

export function utf8(textValue) {
  return new TextEncoder().encode(textValue);
}

// ---- what is typed: never left for the browser to keep ---------------------------------------

/** Empties every field of each form (text, choices, files) back to the page's own defaults, so
 * nothing the discloser typed stays in the page once it is sent or left. The fields say
 * autocomplete="off", which keeps them out of the tab state Chromium saves to its profile
 * (Sessions/); this also leaves nothing for the back-forward cache (SECURITY.md, "What the
 * browser keeps of what is typed"). */
export function forgetTyped(...forms) {
  for (const form of forms) {
    if (form) form.reset();
  }
}

/** Forget what `forms` hold whenever the page is left (closed, reloaded, another page opened). */
export function forgetTypedWhenLeft(...forms) {
  window.addEventListener('pagehide', () => forgetTyped(...forms));
}
