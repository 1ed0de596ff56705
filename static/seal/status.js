// The status page with script (issue 27; docs/sealed-submission.md, section 3): the browser derives
// the receipt's identity, sends only the lookup, opens the case key and the officers' messages
// itself, and seals the discloser's reply before sending it.
import * as pc from './portal-crypto.js';
import {
  Refusal, day, forgetTyped, forgetTypedWhenLeft, fromB64, getJson, isObject, learnWords, list, sendJson, sendPaid, show,
  text, toB64, utf8, whole, word, wordOr, wordThePage,
} from './page.js';

const $ = (id) => document.getElementById(id);
let setup = null;
let opened = null; // {caseId, caseKey}
// The reply whose answer never came (the connection cut while it was sent): the next click sends
// the same message with the same client token. {message, clientToken}
let unanswered = null;

function messageField(id, author, accountId, onDay) {
  return `message:${JSON.stringify([id, author, accountId, onDay])}`;
}

function kdfParams(value) {
  const params = isObject(value) ? value : {};
  return { opslimit: whole(params.opslimit, 'receipt parameters'), memlimit: whole(params.memlimit, 'receipt parameters') };
}

/** The salts and the Argon2id costs to derive a typed receipt at, in the order to try them: the
 * status setup's `receipt.salt`, then its `receipt.moved_salts` (cases moved here from another
 * organisation), each at every one of `receipt.versions` (docs/sealed-submission.md, section 3),
 * else the one salt and version the disclosure's setup names. Never parameters of this page's own. */
async function receiptTries() {
  let receipt = isObject(setup.receipt) ? setup.receipt : null;
  if (!receipt) receipt = (await getJson('/disclose/sealed/setup')).receipt;
  if (!isObject(receipt)) throw new Refusal(0, 'malformed', word('unreadable'));
  const versions = Array.isArray(receipt.versions)
    ? receipt.versions.slice(0, 8).map((v) => kdfParams(isObject(v) ? v.params : null))
    : [kdfParams(receipt.params)];
  if (!versions.length) throw new Refusal(0, 'malformed', word('unreadable'));
  const moved = Array.isArray(receipt.moved_salts) ? receipt.moved_salts.slice(0, 64) : [];
  const salts = [receipt.salt, ...moved].map((salt) => fromB64(salt, 'salt', 16));
  return salts.flatMap((salt) => versions.map((params) => ({ salt, params })));
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
    throw new Refusal(0, 'malformed', word('not_opened'));
  }
  opened.caseId = caseId;
  opened.caseKey = caseKey;
  const mode = answer.sealed_by === 'browser' ? 'browser' : 'server';
  const sealing = $('sealing-mode');
  sealing.dataset.sealedBy = mode;
  sealing.textContent = mode === 'browser' ? word('sealed_by_browser') : word('sealed_by_server');
  const status = typeof answer.status === 'string' ? answer.status.slice(0, 60) : '';
  // The status as the discloser's pages name it (casefiles.STATUSES); its value if the words have none.
  $('case-status').textContent = wordOr(`status_${status}`, status.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()));
  $('case-status').dataset.status = status;
  const thread = $('messages');
  thread.replaceChildren();
  for (const m of readMessages(answer, caseKey, caseId)) {
    const item = document.createElement('li');
    const meta = document.createElement('p');
    meta.className = 'meta';
    meta.textContent = m.author === 'officer' ? word('by_officer', { day: m.onDay }) : word('by_you', { day: m.onDay });
    const body = document.createElement('div');
    body.className = 'typed';
    body.textContent = m.body === null ? word('message_unopened') : m.body;
    item.append(meta, body);
    thread.append(item);
  }
  if (!thread.children.length) {
    const item = document.createElement('li');
    item.textContent = word('no_messages');
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
    show($('problem'), word('not_a_receipt'));
    return;
  }
  $('open').disabled = true;
  try {
    const tries = await receiptTries();
    say(word('opening'));
    let answer = null;
    for (let i = 0; i < tries.length && !answer; i++) {
      // A receipt carries no version, nor the organisation it was made at: derive at each salt
      // and version the portal opens, its own salt and the current version first.
      const identity = await pc.deriveReceiptIdentity(receipt, tries[i].salt, tries[i].params);
      opened = { identity };
      try {
        if (i > 0) setup = await getJson('/status/sealed/setup'); // the last check spent its proof
        answer = await sendPaid('/status/sealed', setup.csrf_token, { v: 1, lookup: identity.lookupId }, setup.proof, say);
      } catch (error) {
        if (!(error instanceof Refusal && error.code === 'not-found' && i + 1 < tries.length)) throw error;
      }
    }
    render(answer);
    forgetTyped($('open-form')); // the case is open: the receipt code is not left in the page
    $('open-form').hidden = true;
    $('working').hidden = true;
  } catch (error) {
    $('working').hidden = true;
    show($('problem'), error instanceof Refusal ? error.message : word('went_wrong'));
  } finally {
    $('open').disabled = false;
  }
}

async function sendReply(event) {
  event.preventDefault();
  const message = unanswered ? unanswered.message : $('reply').value;
  if (!message.trim()) {
    show($('problem'), word('need_message'));
    return;
  }
  $('problem').hidden = true;
  $('send').disabled = true;
  try {
    setup = await getJson('/status/sealed/setup'); // a fresh one-time token and today's day
    const today = day(setup.day);
    const messageId = pc.toHex(pc.randomBytes(16));
    const body = pc.encryptField(opened.caseKey, opened.caseId, messageField(messageId, 'discloser', null, today), utf8(message));
    // 128 random bits for this reply, sent again with it if its answer is lost: the portal then
    // answers as the first time and keeps it once (portal/intake/reply_tokens.py).
    unanswered = { message, clientToken: unanswered ? unanswered.clientToken : pc.toHex(pc.randomBytes(16)) };
    try {
      await sendJson('POST', '/status/sealed/reply', text(setup.csrf_token, 'token', 500), {
        v: 1, submission_token: text(setup.submission_token, 'token', 500), message_id: messageId, day: today, body: toB64(body),
        client_token: unanswered.clientToken,
      });
    } catch (error) {
      if (error instanceof Refusal && error.status) unanswered = null; // answered: nothing was kept
      throw error;
    }
    unanswered = null;
    forgetTyped($('reply-form'));
    show($('sent'), word('reply_sent'));
    setup = await getJson('/status/sealed/setup');
    const again = await sendPaid('/status/sealed', setup.csrf_token, { v: 1, lookup: opened.identity.lookupId }, setup.proof, say);
    render(again);
    $('working').hidden = true;
  } catch (error) {
    let words = error instanceof Refusal ? error.message : word('reply_not_sent');
    if (unanswered) words = word('reply_unanswered'); // it may have been kept: the next click resends it
    show($('problem'), words);
  } finally {
    $('send').disabled = false;
  }
}

$('open-form').addEventListener('submit', openCase);
$('reply-form').addEventListener('submit', sendReply);
forgetTypedWhenLeft($('open-form'), $('reply-form'));
getJson('/status/sealed/setup').then((answer) => {
  setup = answer;
  learnWords(setup.words);
  wordThePage(setup.language);
  text(setup.csrf_token, 'token', 500);
  $('open-form').hidden = false;
}).catch(() => show($('problem'), word('not_ready')));
