// The sealing page (issue 27; docs/sealed-submission.md): the discloser's browser makes the
// receipt, derives its identity, verifies each channel's roster from the root it trusts, seals
// every field, the case key and the identity key, uploads files encrypted in parts, and sends the
// sealed disclosure. Nothing the discloser wrote leaves this page in the clear.
import * as pc from './portal-crypto.js';
import { cleanHiddenDetails } from './hidden-details.js';
import {
  Refusal, forgetTyped, forgetTypedWhenLeft, fromB64, getJson, isObject, learnWords, list, pause, portalUrl, putBytes, sendJson,
  sendPaid, show, text, toB64, utf8, whole, word, wordThePage,
} from './page.js';

const $ = (id) => document.getElementById(id);
// "language": the language the discloser says they wrote in, "" when they would rather not say;
// sealed and padded like the others (casefiles.CASE_FIELDS), so its length tells nothing.
const FIELDS = ['category', 'summary', 'details', 'disclosed_elsewhere', 'language'];
const IDENTITY_FIELDS = ['contact', 'identifying'];
const FIRST_NOTE = '{"reason": "", "expected_timeframe": ""}'; // Python's json.dumps, default separators
const PART_TRIES = 6;
const AGAIN_WITH_A_NEW_SETUP = ['day-changed', 'roster-changed', 'case-id-taken', 'csrf'];

let setup = null;
let worded = false; // the page's own text put in the discloser's language, from the first setup
// The sealed disclosure whose answer never came (the connection cut while it was sent): it may have
// been stored, so the next click sends the very same one, and the receipt it was sealed with.
let unanswered = null;
let channels = []; // [{name, id, readers: [{recipient, officer, name, key, keyId}], recovery, refused: [names]}]
let kindWords = new Map(); // a kind of hidden detail (hidden-details.js KINDS) -> in the discloser's language

// ---- the setup, checked ----------------------------------------------------------------------

async function bundleBytes(name) {
  const response = await fetch(portalUrl(`static/seal/${name}`), { credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) return new Uint8Array(0); // refused below as unreadable: the bundle is not signed
  return new Uint8Array(await response.arrayBuffer());
}

async function trustedRoots() {
  // The roots come from the signed bundle manifest (SECURITY.md, "The sealing page's signed
  // bundle"), never from the server alone; the server's roots must be the same, or the page
  // refuses to seal: a roots file or database swapped on the server is caught here.
  const [releaseKey, manifest, signature] = await Promise.all(
    ['release-key.json', 'bundle-manifest.json', 'bundle-manifest.json.sig'].map(bundleBytes),
  );
  let signed;
  try {
    signed = pc.verifyBundle(releaseKey, manifest, signature);
  } catch (error) {
    // The reason is bundle.js's own, in English: a technical detail after the translated sentence.
    throw new Refusal(0, 'bundle', error instanceof pc.BundleError
      ? word('bundle_unchecked_because', { why: error.message }) : word('bundle_unchecked'));
  }
  const answer = await getJson('/disclose/sealed/roots');
  const served = new Map();
  if (isObject(answer.roots)) {
    for (const [id, root] of Object.entries(answer.roots)) served.set(id, fromB64(root, 'root', 32));
  }
  if (pc.rootsDiffering(signed.roots, served).length) {
    throw new Refusal(0, 'bundle', word('bundle_other_roots'));
  }
  return signed.roots;
}

function checkedChannel(entry, roots) {
  if (!isObject(entry)) throw new Refusal(0, 'malformed', word('bad_value', { what: 'channel' }));
  const name = text(entry.name, 'channel name', 200);
  const id = whole(entry.id, 'channel id');
  const root = roots.get(String(id));
  const statements = list(entry.roster, 'roster').map((s) => ({
    body: fromB64(isObject(s) ? s.body : null, 'roster statement'),
    signatures: list(s.signatures, 'roster signatures').map((pair) => list(pair, 'signature').map((v) => fromB64(v, 'signature'))),
  }));
  const verified = root ? pc.verifyRosterChain(root, id, statements) : { ok: false, problem: 'no root to check it from', readers: [], sealingKeys: [] };
  const readers = [];
  const refused = [];
  for (const reader of list(entry.readers, 'readers')) {
    if (!isObject(reader)) continue;
    const officer = whole(reader.officer, 'officer');
    const readerName = text(reader.name, 'officer name', 200);
    let key = null;
    try {
      key = fromB64(reader.public_key, 'key', 32);
      pc.checkX25519Public(key);
    } catch {
      key = null;
    }
    // Sealed only to the key the verified roster gives this very officer.
    const admitted = key && verified.ok && verified.readers.some((r) => r.officer === officer && pc.equalBytes(r.key, key));
    if (admitted && pc.rosterAdmits(verified, key)) {
      readers.push({ recipient: `account:${officer}`, officer, name: readerName, key, keyId: pc.keyFingerprint(key) });
    } else {
      refused.push(readerName);
    }
  }
  let recovery = null;
  if (isObject(entry.recovery)) {
    const key = fromB64(entry.recovery.public_key, 'recovery key', 32);
    if (verified.ok && verified.recoveryKey && pc.equalBytes(verified.recoveryKey, key) && pc.rosterAdmits(verified, key)) {
      recovery = { recipient: 'recovery', key, keyId: pc.keyFingerprint(key) };
    } else {
      refused.push(word('recovery_key'));
    }
  }
  // No signed root for it: its roster was never started (a new installation, the demo), not swapped.
  return { name, id, readers, recovery, refused, unsigned: !root };
}

function fill(select, options) {
  for (const [value, label] of options) {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = label;
    select.append(option);
  }
}

// The languages a discloser may say they wrote in, each named in itself, "rather not say" chosen
// until they say otherwise (never the page's language: a guess), as the form without script
// offers them (languages.written_choices).
function fillLanguages() {
  const written = list(setup.written ?? [], 'languages').filter(isObject)
    .map((l) => [text(l.code, 'language', 64), text(l.name, 'language name', 200)]);
  fill($('language'), [['', word('rather_not_say')], ...written]);
  for (const option of $('language').options) {
    if (option.value) option.lang = option.value;
  }
}

async function fetchSetup() {
  setup = await getJson('/disclose/sealed/setup');
  learnWords(setup.words);
  kindWords = new Map(isObject(setup.kind_words)
    ? Object.entries(setup.kind_words).filter(([, v]) => typeof v === 'string' && v.length <= 500) : []);
  if (!worded) {
    wordThePage(setup.language);
    worded = true;
  }
  const roots = await trustedRoots();
  text(setup.csrf_token, 'token', 500);
  text(setup.submission_token, 'token', 500);
  channels = list(setup.channels, 'channels').map((c) => checkedChannel(c, roots));
}

async function load() {
  await fetchSetup();
  fill($('channel'), [['', word('choose_one')], ...channels.map((c) => [c.name, c.name])]);
  fillLanguages();
  const excludable = Array.isArray(setup.excludable) ? setup.excludable.filter(isObject) : [];
  for (const officer of excludable) {
    const id = whole(officer.officer, 'officer');
    const item = document.createElement('li');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.autocomplete = 'off';
    box.id = `exclude-${id}`;
    box.value = String(id);
    const label = document.createElement('label');
    label.htmlFor = box.id;
    label.textContent = text(officer.name, 'officer name', 200);
    item.append(box, ' ', label);
    $('exclude').append(item);
  }
  $('exclude-box').hidden = excludable.length === 0;
  $('channel').addEventListener('change', sayRefused);
  await trustedResumeRecord(text(setup.day, 'day', 10)); // what has expired, or is not ours, goes now
  $('loading').textContent = word('ready');
  $('seal-form').hidden = false;
}

function sayRefused() {
  const channel = channels.find((c) => c.name === $('channel').value);
  const box = $('roster-problem');
  if (channel && channel.unsigned) {
    box.textContent = word('roster_not_started');
    box.hidden = false;
    return;
  }
  if (!channel || channel.refused.length === 0) {
    box.hidden = true;
    return;
  }
  const sealedTo = channel.readers.map((r) => r.name);
  box.textContent = `${word('roster_refused', { names: channel.refused.join(', ') })} ${
    sealedTo.length ? word('roster_still_reaches', { names: sealedTo.join(', ') }) : word('roster_none_checked')}`;
  box.hidden = false;
}

// ---- sealing ---------------------------------------------------------------------------------

function envelope(recipient, key, secret) {
  return { recipient: recipient.recipient, key_id: recipient.keyId, sealed: toB64(pc.sealTo(key, secret)) };
}

function progressSay(words, done, total) {
  $('progress-box').hidden = false;
  $('progress-words').textContent = words;
  $('progress').max = Math.max(total, 1);
  $('progress').value = done;
}

// The blob's bytes in the portal's parts: the same bytes again for the same key and header, so a
// part lost on the way is sent again from the file (docs/browser-crypto-api.md, files).
async function* blobParts(file, key, ad, header, partBytes) {
  const encryptor = new pc.StreamEncryptor(key, ad, { header });
  let held = new Uint8Array(partBytes);
  let fill = 0;
  function* take(chunk) {
    let i = 0;
    while (i < chunk.length) {
      const n = Math.min(partBytes - fill, chunk.length - i);
      held.set(chunk.subarray(i, i + n), fill);
      fill += n;
      i += n;
      if (fill === partBytes) {
        yield held;
        held = new Uint8Array(partBytes);
        fill = 0;
      }
    }
  }
  yield* take(encryptor.header);
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const chunk of encryptor.write(value)) yield* take(chunk);
  }
  for (const chunk of encryptor.close()) yield* take(chunk);
  if (fill) yield held.subarray(0, fill);
}

// Files the page reads whole to remove hidden details (as the server's checks, portal/hidden_details).
const CLEAN_AT_MOST = 64 * 1024 * 1024;

// The file as it will be sealed, and what its record says of hidden details ("removed" with the
// kinds, "none", "left" when the discloser unticked the box, "unknown" for a kind the page does
// not read, "plain" for such a file that is plain text, "unchecked" when it could not check, `why` "size" or "damaged"); `original` the file
// as chosen when some were removed, to be kept for the discloser alone.
async function withoutHiddenDetails(file, strip) {
  if (!strip) return { file, hidden: 'left', kinds: [] };
  if (file.size > CLEAN_AT_MOST) return { file, hidden: 'unchecked', why: 'size', kinds: [] };
  const checked = await cleanHiddenDetails(file.name, new Uint8Array(await file.arrayBuffer()));
  if (checked.outcome !== 'cleaned') {
    if (checked.outcome === 'unknown' || checked.outcome === 'plain') return { file, hidden: checked.outcome, kinds: [] };
    return { file, hidden: 'unchecked', why: checked.outcome === 'size' ? 'size' : 'damaged', kinds: [] };
  }
  if (checked.found.length === 0) return { file, hidden: 'none', kinds: [] };
  const cleaned = new File([checked.cleaned], file.name, { type: file.type || 'application/octet-stream' });
  return { file: cleaned, hidden: 'removed', kinds: checked.found, original: file };
}

// What the receipt says of one file, in the plaintext form's words (templates/intake/_metadata_report.html).
function fileReport(read) {
  const item = document.createElement('li');
  const name = document.createElement('strong');
  name.textContent = read.file.name;
  let said;
  if (read.hidden === 'removed') said = word('report_removed', { kinds: read.kinds.map((k) => kindWords.get(k) ?? k).join('; ') });
  else if (read.hidden === 'none') said = word('report_none');
  else if (read.hidden === 'left') said = word('report_left');
  else if (read.hidden === 'plain') said = word('report_plain');
  else if (read.hidden === 'unknown') said = word('report_unknown');
  else if (read.why === 'size') said = word('report_size');
  else said = word('report_damaged');
  item.append(name, `: ${said}`);
  return item;
}

// ---- resuming after a reload ------------------------------------------------------------------
// What lets a file's upload carry on after the page was reloaded or closed (docs/sealed-submission.md,
// section 4; SECURITY.md, "Resuming an upload after a reload"). A disclosure is sealed under the case
// this page load made, or under the case of an upload this browser itself began and kept: the case
// key, case id, attachment id, stream header and form token are sealed under a key derived from the
// file's own SHA-256 and a random salt (so only the very file opens them, and a stream is only ever
// continued with the bytes it began with), and that is encrypted again (AES-GCM) under a key this
// browser made with WebCrypto as non-extractable and keeps in IndexedDB. So no case key is ever taken
// from a record this browser did not write itself: a record planted by someone who knows the file
// opens nothing, and the disclosure gets a fresh case. Nothing is written while uploads go well:
// the record (and the key) are kept only once an upload has been interrupted (a part lost, the
// disclosure not stored, or the page left part way); they go when the disclosure is stored, when
// the discloser chooses the ordinary form, and at the first visit after the upload has expired.

const RESUME_VERSION = 3;
const resumeName = () => `portal-sealing-resume:${portalUrl('')}`;
const KEY_DB = 'portal-sealing';
const KEY_STORE = 'keys';
let wrapKey = null; // this browser's CryptoKey for its record, once read or made
let wrapKeyStored = false; // whether that key is in IndexedDB
let kept = null; // this load's record {v, day, salt, files: [{size, upload, parts, sealed}]}, in memory
let keptWritten = false; // whether `kept` is in localStorage (only once an upload was interrupted)
let thisCase = null; // {caseKey, caseId}: the case this load seals under, once it has one
let begun = []; // this load's uploads: {digest, size, upload, attachmentId, header, formToken}

function resumeRecord() {
  try {
    const record = JSON.parse(localStorage.getItem(resumeName()) ?? 'null');
    if (isObject(record) && record.v === RESUME_VERSION && Array.isArray(record.files) && typeof record.salt === 'string'
      && typeof record.day === 'string') {
      return record;
    }
  } catch {
    // Storage off or unreadable: an upload then resumes only while the page stays open.
  }
  return null;
}

function keptAtAll() {
  try {
    return localStorage.getItem(resumeName()) !== null;
  } catch {
    return false;
  }
}

function keepResume(record) {
  try {
    localStorage.setItem(resumeName(), JSON.stringify(record));
  } catch {
    // As above: no storage, no resuming after a reload.
  }
}

// One request of IndexedDB's key store, its result (null without IndexedDB, or when `make` is
// false and there is no store: looking or removing never makes the database).
async function keyStore(mode, request, make = false) {
  try {
    const db = await new Promise((resolve, reject) => {
      const opening = indexedDB.open(KEY_DB, 1);
      opening.onupgradeneeded = () => {
        if (make) opening.result.createObjectStore(KEY_STORE);
        else opening.transaction.abort();
      };
      opening.onsuccess = () => resolve(opening.result);
      opening.onerror = () => reject(opening.error);
    });
    try {
      return await new Promise((resolve, reject) => {
        const done = db.transaction(KEY_STORE, mode);
        const asked = request(done.objectStore(KEY_STORE));
        done.oncomplete = () => resolve(asked.result ?? null);
        done.onerror = () => reject(done.error);
        done.onabort = () => reject(done.error);
      });
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

// This browser's key for its record: the one kept, else (when `make`) a new one held in memory
// until an upload is interrupted (storeWrapKey); null if none.
async function resumeWrapKey(make) {
  if (wrapKey) return wrapKey;
  const found = await keyStore('readonly', (store) => store.get(resumeName()));
  if (found instanceof CryptoKey) {
    wrapKey = found;
    wrapKeyStored = true;
  } else if (make) {
    try {
      wrapKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    } catch {
      return null; // no WebCrypto: an upload resumes only while the page stays open
    }
  }
  return wrapKey;
}

async function storeWrapKey() {
  if (!wrapKey || wrapKeyStored) return;
  const key = wrapKey;
  if (await keyStore('readwrite', (store) => store.put(key, resumeName()), true) !== null) wrapKeyStored = true;
}

// What ties a sealed entry to its place: the record's version, the portal, the salt, the upload and its size.
function wrapAd(record, entry) {
  return utf8(JSON.stringify([RESUME_VERSION, portalUrl(''), record.salt, entry.upload, entry.size]));
}

function resumeKey(digest, salt) {
  return pc.blake2bKdf(digest, 'portal-resume', salt);
}

// Seal `state` into `entry` of `record`: under the file's key, then under this browser's.
async function sealEntry(record, entry, digest, state) {
  const key = await resumeWrapKey(true);
  const inner = pc.encryptField(resumeKey(digest, fromB64(record.salt, 'salt', 16)), 'resume', `upload:${entry.upload}`,
    utf8(JSON.stringify(state)));
  if (!key) {
    entry.sealed = '';
    return;
  }
  const iv = pc.randomBytes(12);
  const outer = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: wrapAd(record, entry) }, key, inner));
  const both = new Uint8Array(12 + outer.length);
  both.set(iv);
  both.set(outer, 12);
  entry.sealed = toB64(both);
}

// Once an upload was interrupted: keep this load's record (and the key it is sealed under).
async function keepForResuming() {
  if (!kept || kept.files.length === 0) return;
  await storeWrapKey();
  if (!wrapKeyStored) return;
  keepResume(kept);
  keptWritten = true;
}

// The record this browser kept, with each entry its own key opens (`inner`: the file-keyed state),
// or null; a record with none (planted, or its key gone) or from before yesterday (its uploads
// have expired) is forgotten.
async function trustedResumeRecord(today) {
  const record = resumeRecord();
  if (!record) {
    if (keptAtAll()) await forgetResume(); // an older version's, or unreadable
    return null;
  }
  const key = await resumeWrapKey(false);
  const files = [];
  for (const entry of record.files) {
    if (!key || !isObject(entry) || typeof entry.sealed !== 'string' || typeof entry.upload !== 'string') continue;
    try {
      const both = fromB64(entry.sealed, 'sealed');
      const inner = new Uint8Array(await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: both.subarray(0, 12), additionalData: wrapAd(record, entry) }, key, both.subarray(12)));
      files.push({ entry, inner });
    } catch {
      // Not one of ours.
    }
  }
  if (files.length === 0 || !recentDay(record.day, today)) {
    await forgetResume();
    return null;
  }
  return { record: { ...record, files: files.map((f) => f.entry) }, opened: files };
}

// Whether `day` is `today` or the day before (an upload lasts into the next morning, at most).
function recentDay(day, today) {
  const at = (d) => Date.parse(`${d}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && at(today) - at(day) >= 0 && at(today) - at(day) <= 86400000;
}

async function forgetResume() {
  wrapKey = null;
  wrapKeyStored = false;
  kept = null;
  keptWritten = false;
  try {
    localStorage.removeItem(resumeName());
  } catch {
    // Nothing was kept.
  }
  await keyStore('readwrite', (store) => store.delete(resumeName()));
}

// The upload this very file began, as a trusted record keeps it, opened, or null (another file).
function openResumeState(trusted, digest, size, claimed) {
  const salt = fromB64(trusted.record.salt, 'salt', 16);
  for (const { entry, inner } of trusted.opened) {
    if (entry.size !== size || claimed.has(entry.upload)) continue;
    try {
      const state = JSON.parse(new TextDecoder().decode(pc.decryptField(resumeKey(digest, salt), 'resume', `upload:${entry.upload}`, inner)));
      return {
        upload: text(entry.upload, 'upload', 100),
        caseKey: fromB64(state.case_key, 'case key', 32),
        caseId: text(state.case_id, 'case id', 64),
        attachmentId: text(state.attachment_id, 'attachment id', 64),
        header: fromB64(state.header, 'header', 24),
        formToken: typeof state.form_token === 'string' ? state.form_token : null,
      };
    } catch {
      // Not this file's.
    }
  }
  return null;
}

// The upload this load began for this very file (same SHA-256 and size), or null.
function begunHere(digest, size, claimed) {
  const found = begun.find((b) => b.size === size && !claimed.has(b.upload) && pc.equalBytes(b.digest, digest));
  return found ? { ...found, caseKey: thisCase.caseKey, caseId: thisCase.caseId } : null;
}

// Leaving the page part way through an upload interrupts it: kept now, as far as a page being left
// can (localStorage at once; the key's IndexedDB write may not finish, and then nothing resumes).
window.addEventListener('pagehide', () => {
  if (!kept || kept.files.length === 0 || keptWritten) return;
  storeWrapKey();
  keepResume(kept);
  keptWritten = true;
});

// The file as it will be sealed, with its SHA-256 (one pass, before any part is sent).
async function readFile(original, place, strip) {
  if (strip) progressSay(word('removing_details', { file: place }), 0, 1);
  const cleaned = await withoutHiddenDetails(original, strip);
  progressSay(word('reading_file', { file: place }), 0, 1);
  const sha = pc.newSha256();
  const reader = cleaned.file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    sha.update(value);
  }
  return { ...cleaned, place, digest: sha.digest() };
}

async function uploadFile(read, caseKey, caseId, resumed, record) {
  const { file, hidden, kinds, place, digest } = read;
  const size = pc.paddedBlobSize(file.size);
  let upload = resumed?.upload;
  let stored = 0;
  let partBytes = 64 * 1024;
  let rebound = false;
  if (upload) {
    let state = null;
    try {
      state = await getJson(`/disclose/sealed/uploads/${upload}`);
    } catch {
      // Begun in a session that ended when the browser closed: bound to this one by the form
      // token it was begun under (SECURITY.md, "Resuming an upload after a reload").
      if (resumed.formToken) {
        try {
          state = await sendJson('POST', `/disclose/sealed/uploads/${upload}/session`, setup.csrf_token,
            { v: 1, form_token: resumed.formToken });
          rebound = true;
        } catch {
          state = null;
        }
      }
    }
    if (state) {
      partBytes = whole(state.part_bytes, 'part size');
      stored = whole(state.parts, 'parts');
    } else {
      upload = null; // expired, or unknown to the portal: sent afresh
    }
  }
  const attachmentId = upload ? resumed.attachmentId : pc.toHex(pc.randomBytes(16));
  const header = upload ? resumed.header : pc.randomBytes(24);
  // Sealed in memory; written only once an upload is interrupted (keepForResuming).
  const sealState = (entry) => sealEntry(record, entry, digest, {
    case_key: toB64(caseKey), case_id: caseId, attachment_id: attachmentId, header: toB64(header), form_token: setup.csrf_token });
  if (!upload) {
    const made = await sendJson('POST', '/disclose/sealed/uploads', setup.csrf_token, { v: 1, size });
    upload = text(made.upload, 'upload', 100);
    partBytes = whole(made.part_bytes, 'part size');
    record.files = record.files.filter((f) => isObject(f) && f.upload !== resumed?.upload); // an expired one goes
    const madeEntry = { size, upload, parts: 0, sealed: '' };
    await sealState(madeEntry);
    record.files.push(madeEntry);
    if (keptWritten) keepResume(record);
  }
  begun = begun.filter((b) => b.upload !== upload && b.upload !== resumed?.upload);
  begun.push({ digest, size, upload, attachmentId, header, formToken: setup.csrf_token });
  const entry = record.files.find((f) => f.upload === upload);
  if (rebound && entry) {
    await sealState(entry); // bound to this session's token now
    if (keptWritten) keepResume(record);
  }
  const key = pc.streamKey(caseKey, caseId, attachmentId);
  const ad = pc.attachmentAd(caseId, attachmentId);
  const parts = Math.ceil(size / partBytes);
  if (stored > 0) progressSay(word('resuming_file', { file: place, part: stored + 1, parts }), stored, parts);
  for (let attempt = 0; stored < parts; attempt++) {
    let n = 0;
    try {
      for await (const part of blobParts(file, key, ad, header, partBytes)) {
        if (n >= stored) {
          await putBytes(`/disclose/sealed/uploads/${upload}/parts/${n}`, setup.csrf_token, part);
          stored = n + 1;
          if (entry) {
            entry.parts = stored;
            if (keptWritten) keepResume(record);
          }
          progressSay(word('sending_part', { file: place, part: stored, parts }), stored, parts);
        }
        n++;
      }
    } catch (error) {
      if (error instanceof Refusal && error.status >= 400 && error.status < 500 && error.code !== 'different') {
        throw error;
      }
      if (attempt + 1 >= PART_TRIES) {
        // Lost to the network, not refused: what was stored stays, and says where to carry on.
        if (error instanceof Refusal) throw error;
        throw new Refusal(0, 'connection-lost', word('upload_cut_off', { file: place, part: stored + 1, parts }));
      }
      await keepForResuming(); // interrupted: from now on a reload can carry on from here
      progressSay(word('part_interrupted', { file: place }), stored, parts);
      await pause(1);
      try {
        const state = await getJson(`/disclose/sealed/uploads/${upload}`);
        stored = whole(state.parts, 'parts');
      } catch {
        // Still cut off: the next attempt asks again.
      }
    }
  }
  const meta = { name: file.name, type: file.type || 'application/octet-stream', size: file.size, message: null,
    sha256: pc.toHex(digest), hidden, hidden_kinds: kinds };
  return { id: attachmentId, upload, meta: toB64(pc.encryptField(caseKey, caseId, `attachment:${attachmentId}`, utf8(JSON.stringify(meta)))) };
}

// The file as chosen, of one the page cleaned: kept for the discloser alone as the plaintext form
// keeps it (docs/sealed-submission.md, "Originals"): under a key of its own, sealed to the
// discloser's public key only. Sent whole, in parts, each part sent again after a cut.
async function uploadOriginal(read, attachmentId, caseId, discloserKey) {
  const file = read.original;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const key = pc.newCaseKey();
  const begun = await sendJson('POST', '/disclose/sealed/uploads', setup.csrf_token, { v: 1, size: pc.paddedBlobSize(file.size) });
  const upload = text(begun.upload, 'upload', 100);
  const partBytes = whole(begun.part_bytes, 'part size');
  const header = pc.randomBytes(24);
  const ad = pc.attachmentAd(caseId, `original:${attachmentId}`);
  const parts = Math.ceil(pc.paddedBlobSize(file.size) / partBytes);
  let n = 0;
  for await (const part of blobParts(file, pc.streamKey(key, caseId, attachmentId), ad, header, partBytes)) {
    for (let attempt = 1; ; attempt++) {
      try {
        await putBytes(`/disclose/sealed/uploads/${upload}/parts/${n}`, setup.csrf_token, part);
        break;
      } catch (error) {
        const refused = error instanceof Refusal && error.status >= 400 && error.status < 500 && error.code !== 'different';
        if (attempt >= PART_TRIES || refused) throw error;
        progressSay(word('part_interrupted', { file: read.place }), n, parts);
        await pause(1);
      }
    }
    n++;
    progressSay(word('sending_part', { file: read.place, part: n, parts }), n, parts);
  }
  const sha = pc.newSha256();
  sha.update(bytes);
  const meta = { name: file.name, size: file.size, sha256: pc.toHex(sha.digest()) };
  return {
    id: attachmentId,
    upload,
    sealed_key: toB64(pc.sealTo(discloserKey, key)),
    meta: toB64(pc.encryptField(key, caseId, `original:${attachmentId}`, utf8(JSON.stringify(meta)))),
  };
}

function plainValue(id) {
  return $(id).value;
}

function problemWith() {
  if (!$('channel').value) return word('need_channel');
  if (!plainValue('category')) return word('need_category');
  if (!plainValue('summary').trim()) return word('need_summary');
  if (!plainValue('details').trim()) return word('need_details');
  if (!plainValue('disclosed_elsewhere')) return word('need_elsewhere');
  const limits = isObject(setup.limits) ? setup.limits : {};
  for (const name of [...FIELDS, ...IDENTITY_FIELDS]) {
    const limit = limits[name];
    if (Number.isSafeInteger(limit) && utf8(plainValue(name)).length > limit) {
      return word('too_long', { label: document.querySelector(`label[for=${name}]`).textContent });
    }
  }
  const channel = channels.find((c) => c.name === $('channel').value);
  if (channel && channel.unsigned) return word('roster_not_started');
  const excluded = new Set(checkedExclusions());
  if (!channel || channel.readers.filter((r) => !excluded.has(r.officer)).length === 0) {
    return word('no_reader');
  }
  return null;
}

function checkedExclusions() {
  return [...document.querySelectorAll('#exclude input:checked')].map((box) => parseInt(box.value, 10));
}

async function sendSealed(sealed) {
  progressSay(word('sending_disclosure'), 0, 1);
  unanswered = sealed;
  let answer = {};
  try {
    answer = await sendPaid('/disclose/sealed', setup.csrf_token, sealed.body, setup.proof, (words) => progressSay(words, 0, 1));
    if (answer.sealed_by !== 'browser') throw new Refusal(0, 'malformed', word('unreadable'));
  } catch (error) {
    // "Already received" means kept only for this very disclosure sent before without an answer.
    const kept = error instanceof Refusal && error.code === 'already-received' && sealed.sentBefore;
    if (!kept) {
      if (error instanceof Refusal && error.status) unanswered = null; // answered: not stored
      else sealed.sentBefore = true;
      throw error;
    }
  }
  unanswered = null;
  forgetTyped($('seal-form')); // stored: nothing typed stays in the page
  await forgetResume();
  $('seal-form').hidden = true;
  $('loading').hidden = true;
  $('roster-problem').hidden = true;
  $('problem').hidden = true;
  $('progress-box').hidden = true;
  $('receipt').textContent = sealed.receipt;
  $('metadata-files').replaceChildren(...sealed.read.map(fileReport));
  $('metadata-report').hidden = sealed.read.length === 0;
  if (typeof answer.answer_by === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(answer.answer_by)) {
    const said = answer.answer_by_words;  // the day in words, in the page's language
    const day = typeof said === 'string' && said.length > 0 && said.length <= 64 ? said : answer.answer_by;
    show($('answer-by'), word('answer_by', { day }));
  }
  $('done').hidden = false;
}

async function sealAndSend(event) {
  event.preventDefault();
  const problem = problemWith();
  if (problem) {
    show($('problem'), problem);
    $('problem').focus?.();
    return;
  }
  $('problem').hidden = true;
  $('send').disabled = true;
  try {
    if (unanswered) {
      await sendSealed(unanswered);
      return;
    }
    const channel = channels.find((c) => c.name === $('channel').value);
    const excluded = checkedExclusions();
    const readers = channel.readers.filter((r) => !excluded.includes(r.officer)).concat(channel.recovery ? [channel.recovery] : []);
    const receiptParams = isObject(setup.receipt) && isObject(setup.receipt.params) ? setup.receipt.params : null;
    const params = { opslimit: whole(receiptParams?.opslimit, 'receipt parameters'), memlimit: whole(receiptParams?.memlimit, 'receipt parameters') };
    const salt = fromB64(setup.receipt.salt, 'salt', 16);
    const today = text(setup.day, 'day', 10);
    progressSay(word('making_receipt'), 0, 1);
    const receipt = pc.newReceipt();
    const identity = await pc.deriveReceiptIdentity(receipt, salt, params);
    const files = [...$('files').files];
    const strip = $('strip_metadata').checked;
    const read = [];
    for (let i = 0; i < files.length; i++) {
      read.push(await readFile(files[i], files.length > 1 ? word('file_of', { n: i + 1, count: files.length }) : word('your_file'), strip));
    }
    // A file chosen again carries on its upload, in the case it was begun for: this load's own
    // case once it has one; before that, the case of an upload this browser kept (sealed under its
    // own key), else a fresh one. A case key is never taken from anything else.
    const trusted = thisCase ? null : await trustedResumeRecord(today);
    const claimed = new Set(); // the same file chosen twice resumes once, and is sent afresh once
    const resumed = read.map((r) => {
      const size = pc.paddedBlobSize(r.file.size);
      const found = thisCase ? begunHere(r.digest, size, claimed) : trusted ? openResumeState(trusted, r.digest, size, claimed) : null;
      if (found) claimed.add(found.upload);
      return found;
    });
    if (!thisCase) {
      const first = resumed.find((r) => r);
      thisCase = first ? { caseKey: first.caseKey, caseId: first.caseId } : { caseKey: pc.newCaseKey(), caseId: pc.toHex(pc.randomBytes(16)) };
      kept = first ? trusted.record : { v: RESUME_VERSION, day: today, salt: toB64(pc.randomBytes(16)), files: [] };
      keptWritten = Boolean(first); // it is in storage already
    }
    const { caseKey, caseId } = thisCase;
    const record = kept;
    const identityKey = pc.newCaseKey();
    const attachments = [];
    for (let i = 0; i < read.length; i++) {
      const mine = resumed[i] && resumed[i].caseId === caseId ? resumed[i] : null;
      attachments.push(await uploadFile(read[i], caseKey, caseId, mine, record));
    }
    const originals = [];
    for (let i = 0; i < read.length; i++) {
      if (read[i].original) originals.push(await uploadOriginal(read[i], attachments[i].id, caseId, identity.publicKey));
    }
    progressSay(word('sealing'), 0, 1);
    const seal = (key, field, value) => toB64(pc.encryptField(key, caseId, field, utf8(value)));
    const discloser = { recipient: 'discloser', keyId: pc.keyFingerprint(identity.publicKey) };
    const body = {
      v: 1,
      sealing: 'browser',
      submission_token: setup.submission_token,
      channel: channel.name,
      excluded_officers: excluded,
      case_id: caseId,
      day: today,
      discloser: { public_key: toB64(identity.publicKey), signing_key: toB64(identity.signingPublicKey), lookup: identity.lookupId },
      case_key: readers.map((r) => envelope(r, r.key, caseKey)).concat([envelope(discloser, identity.publicKey, caseKey)]),
      identity_key: readers.map((r) => envelope(r, r.key, identityKey)),
      fields: Object.fromEntries(FIELDS.map((name) => [name, seal(caseKey, name, plainValue(name))])),
      identity_fields: Object.fromEntries(IDENTITY_FIELDS.map((name) => [name, seal(identityKey, `identity:${name}`, plainValue(name))])),
      status: seal(caseKey, `status:${JSON.stringify([1, 'received', today, null])}`, FIRST_NOTE),
      attachments,
      originals,
    };
    await sendSealed({ receipt, body, read });
  } catch (error) {
    let words = error instanceof Refusal ? error.message : word('went_wrong_nothing_sent');
    if (unanswered) {
      words = word('disclosure_unanswered');
    }
    show($('problem'), words);
    // Uploads begun and not yet named in a stored disclosure: a reload may carry on with them.
    if (!(error instanceof Refusal && error.code === 'case-id-taken')) await keepForResuming();
    // The case this browser began is taken (sent before, its answer lost): begin another next time.
    if (error instanceof Refusal && error.code === 'case-id-taken') {
      await forgetResume();
      thisCase = null;
      begun = [];
    }
    if (error instanceof Refusal && AGAIN_WITH_A_NEW_SETUP.includes(error.code)) {
      // A new day, a changed roster or a used token: the next "Seal and send" seals afresh.
      try {
        await fetchSetup();
        sayRefused();
      } catch {
        show($('problem'), word('reload_first', { problem: words }));
      }
    }
    $('progress-box').hidden = true;
    $('send').disabled = false;
  }
}

$('seal-form').addEventListener('submit', sealAndSend);
forgetTypedWhenLeft($('seal-form'));
// Choosing the ordinary form gives up this page's unfinished upload: what was kept for it goes.
$('server-mode').addEventListener('click', async (event) => {
  if (!keptAtAll()) return;
  event.preventDefault(); // the key's removal finishes before the page is left
  await forgetResume();
  window.location.assign($('server-mode').href);
});
load().catch((error) => {
  $('loading').hidden = true;
  show($('problem'), error instanceof Refusal ? error.message : word('not_ready'));
});
