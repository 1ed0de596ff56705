// The status page with script (issue 27; docs/sealed-submission.md, section 3): the browser derives
// the receipt's identity, sends only the lookup, opens the case key and the officers' messages
// itself, and seals the discloser's reply before sending it.
import * as pc from './portal-crypto.js';
import {
  Refusal, day, fromB64, getJson, isObject, list, sendJson, sendPaid, show, text, toB64, utf8, whole,
} from './page.js';

const $ = (id) => document.getElementById(id);
let setup = null;
let opened = null; // {caseId, caseKey}

function messageField(id, author, accountId, onDay) {
  return `message:${JSON.stringify([id, author, accountId, onDay])}`;
}

function kdfParams(value) {
  const params = isObject(value) ? value : {};
  return { opslimit: whole(params.opslimit, 'receipt parameters'), memlimit: whole(params.memlimit, 'receipt parameters') };
}

/** The salt and the Argon2id costs to derive a typed receipt at, in the order to try them: the
 * status setup's `receipt.versions` (docs/sealed-submission.md, section 3), else the one version
 * the disclosure's setup names. Never parameters of this page's own. */
async function receiptVersions() {
  let receipt = isObject(setup.receipt) ? setup.receipt : null;
  if (!receipt) receipt = (await getJson('/disclose/sealed/setup')).receipt;
  if (!isObject(receipt)) throw new Refusal(0, 'malformed', 'The portal sent an answer this page cannot read.');
  const versions = Array.isArray(receipt.versions)
    ? receipt.versions.slice(0, 8).map((v) => kdfParams(isObject(v) ? v.params : null))
    : [kdfParams(receipt.params)];
  if (!versions.length) throw new Refusal(0, 'malformed', 'The portal sent an answer this page cannot read.');
  return { salt: fromB64(receipt.salt, 'salt', 16), versions };
}

function say(words) {
  show($('working'), words);
}

function readMessages(answer, caseKey, caseId) {
  const shown = [];
  for (const m of list(answer.messages, 'messages')) {
    if (!isObject(m)) continue;
    const id = text(m.id, 'message id', 64);
    const author = m.author === 'officer' ? 'officer' : m.author === 'discloser' ? 'discloser' : null;
    if (!author) continue;
    const accountId = m.account_id === null ? null : whole(m.account_id, 'account');
    const onDay = day(m.day);
    let body;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(pc.decryptField(caseKey, caseId, messageField(id, author, accountId, onDay), fromB64(m.ct, 'message')));
    } catch {
      body = null; // a message that does not open is shown as such, never guessed at
    }
    shown.push({ author, onDay, body });
  }
  return shown;
}

function render(answer) {
  const caseId = text(answer.case_id, 'case', 64);
  let caseKey;
  try {
    caseKey = pc.openSealed(opened.identity.privateKey, fromB64(answer.sealed_case_key, 'case key', 82));
  } catch {
    throw new Refusal(0, 'malformed', 'We could not open a disclosure with that code.');
  }
  opened.caseId = caseId;
  opened.caseKey = caseKey;
  const mode = answer.sealed_by === 'browser' ? 'browser' : 'server';
  const sealing = $('sealing-mode');
  sealing.dataset.sealedBy = mode;
  sealing.textContent = mode === 'browser'
    ? 'Your disclosure was sealed in your browser: your device encrypted it before sending it, so the portal\'s server never saw what you wrote.'
    : 'Your disclosure was sealed by the portal\'s server: your browser sent it over an encrypted connection and the server encrypted it as it arrived, without keeping it in the clear.';
  const status = typeof answer.status === 'string' ? answer.status.slice(0, 60) : '';
  $('case-status').textContent = status.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
  $('case-status').dataset.status = status;
  const thread = $('messages');
  thread.replaceChildren();
  for (const m of readMessages(answer, caseKey, caseId)) {
    const item = document.createElement('li');
    const meta = document.createElement('p');
    meta.className = 'meta';
    meta.textContent = `${m.author === 'officer' ? 'Integrity officer' : 'You'}, ${m.onDay}`;
    const body = document.createElement('div');
    body.className = 'typed';
    body.textContent = m.body === null ? 'This message could not be opened in this browser.' : m.body;
    item.append(meta, body);
    thread.append(item);
  }
  if (!thread.children.length) {
    const item = document.createElement('li');
    item.textContent = 'No messages yet.';
    thread.append(item);
  }
  $('case').hidden = false;
}

async function openCase(event) {
  event.preventDefault();
  $('problem').hidden = true;
  let receipt;
  try {
    receipt = pc.normaliseReceipt($('receipt').value);
  } catch {
    show($('problem'), 'That does not look like a receipt code. Check it and try again.');
    return;
  }
  $('open').disabled = true;
  try {
    const { salt, versions } = await receiptVersions();
    say('Opening your disclosure in this browser…');
    let answer = null;
    for (let i = 0; i < versions.length && !answer; i++) {
      // A receipt carries no version: derive at each the portal opens, the current one first.
      const identity = await pc.deriveReceiptIdentity(receipt, salt, versions[i]);
      opened = { identity };
      try {
        if (i > 0) setup = await getJson('/status/sealed/setup'); // the last check spent its proof
        answer = await sendPaid('/status/sealed', setup.csrf_token, { v: 1, lookup: identity.lookupId }, setup.proof, say);
      } catch (error) {
        if (!(error instanceof Refusal && error.code === 'not-found' && i + 1 < versions.length)) throw error;
      }
    }
    render(answer);
    $('open-form').hidden = true;
    $('working').hidden = true;
  } catch (error) {
    $('working').hidden = true;
    show($('problem'), error instanceof Refusal ? error.message : 'Something went wrong in this browser. Please try again.');
  } finally {
    $('open').disabled = false;
  }
}

async function sendReply(event) {
  event.preventDefault();
  const message = $('reply').value;
  if (!message.trim()) {
    show($('problem'), 'Please write your message.');
    return;
  }
  $('problem').hidden = true;
  $('send').disabled = true;
  try {
    setup = await getJson('/status/sealed/setup'); // a fresh one-time token and today's day
    const today = day(setup.day);
    const messageId = pc.toHex(pc.randomBytes(16));
    const body = pc.encryptField(opened.caseKey, opened.caseId, messageField(messageId, 'discloser', null, today), utf8(message));
    await sendJson('POST', '/status/sealed/reply', text(setup.csrf_token, 'token', 500), {
      v: 1, submission_token: text(setup.submission_token, 'token', 500), message_id: messageId, day: today, body: toB64(body),
    });
    $('reply').value = '';
    show($('sent'), 'Your message was sent, sealed in your browser.');
    setup = await getJson('/status/sealed/setup');
    const again = await sendPaid('/status/sealed', setup.csrf_token, { v: 1, lookup: opened.identity.lookupId }, setup.proof, say);
    render(again);
    $('working').hidden = true;
  } catch (error) {
    show($('problem'), error instanceof Refusal ? error.message : 'Your message could not be sent. Please try again.');
  } finally {
    $('send').disabled = false;
  }
}

$('open-form').addEventListener('submit', openCase);
$('reply-form').addEventListener('submit', sendReply);
getJson('/status/sealed/setup').then((answer) => {
  setup = answer;
  text(setup.csrf_token, 'token', 500);
  $('open-form').hidden = false;
}).catch(() => show($('problem'), 'This page could not get ready. Please reload it or use the ordinary status page.'));
