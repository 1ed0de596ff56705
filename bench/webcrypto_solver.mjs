// The genuine client's proof of work in bench/bench_flood.py, solved by the pages' own scripts at
// their own speed: node's WebCrypto (crypto.subtle, JIT on), batched as the scripts batch it.
// One JSON request a line on stdin, one answer a line on stdout:
//   {"form": CHALLENGE, "lane": BITS}  static/proof.js on a stand-in form page (/disclose, /status)
//   {"setup": PROOF}                    static/seal/page.js solveProof (the status page's script)
//   {"rate": N}                         N digests batched as the scripts do, to measure digests/s
// Answer: {"solution": "...", "seconds": S} (or {"per_second": R}).
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const proofJs = readFileSync(fileURLToPath(new URL('static/proof.js', root)), 'utf8');
const page = await import(new URL('static/seal/page.js', root).href);
globalThis.window = { crypto: globalThis.crypto, TextEncoder };

function onForm(challenge, lane) {
  // proof.js arms each form[data-proof] when it runs and fills in pow_solution once solved.
  return new Promise((resolve) => {
    const input = { value: challenge, getAttribute: (name) => (name === 'data-lane-bits' && lane ? String(lane) : null) };
    const solution = { set value(v) { resolve(v); }, get value() { return ''; } };
    const form = {
      querySelector: (selector) => (selector.includes('pow_challenge') ? input : solution),
      querySelectorAll: () => [],
      addEventListener: () => {},
    };
    globalThis.document = { querySelectorAll: () => [form] };
    (0, eval)(proofJs);
  });
}

async function rate(count) {
  const encoder = new TextEncoder();
  const started = performance.now();
  for (let n = 0; n < count; n += 64) {
    const batch = [];
    for (let k = n; k < n + 64; k++) batch.push(crypto.subtle.digest('SHA-256', encoder.encode(`p1.status.17.9999999999.nonce.mac:${k}`)));
    await Promise.all(batch);
  }
  return count / ((performance.now() - started) / 1000);
}

for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  const started = performance.now();
  let answer;
  if (request.rate) answer = { per_second: await rate(request.rate) };
  else if (request.setup) answer = { solution: (await page.solveProof(request.setup)).pow_solution };
  else answer = { solution: await onForm(request.form, request.lane || 0) };
  answer.seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify(answer) + '\n');
}
