// The JavaScript side of bench/bench_browser_seal.py: times static/seal/portal-crypto.js in this
// node process (started with or without --jitless) and prints one JSON object.
//   stream SIZE   - encrypt SIZE bytes (the 1 MiB block read from stdin, repeated) into a blob,
//                   in 64 KiB pieces, dropping each output: CPU and wall seconds, peak RSS
//   receipt OPS MEM - derive a receipt identity at these Argon2id parameters: seconds
//   disclosure N  - seal N disclosures (5 fields, 4 sealed case keys each): seconds
import * as pc from '../static/seal/portal-crypto.js';

function seconds(start, cpu) {
  const used = process.cpuUsage(cpu);
  return {
    wall: Number(process.hrtime.bigint() - start) / 1e9,
    cpu: (used.user + used.system) / 1e6,
  };
}

async function readStdin() {
  const parts = [];
  for await (const p of process.stdin) parts.push(p);
  return new Uint8Array(Buffer.concat(parts));
}

const [mode, ...args] = process.argv.slice(2);
const start = process.hrtime.bigint();
const cpu = process.cpuUsage();
let result;
if (mode === 'stream') {
  const size = Number(args[0]);
  const block = await readStdin();
  const key = new Uint8Array(32).fill(7);
  const piece = 64 * 1024;
  const enc = new pc.StreamEncryptor(key, pc.attachmentAd('2026-0001', 'att-1'));
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let length = enc.header.length;
  let peakRss = 0;
  for (let done = 0; done < size; done += piece) {
    const at = done % block.length;
    for (const c of enc.write(block.subarray(at, at + Math.min(piece, size - done)))) {
      length += c.length;
    }
    if ((done / piece) % 256 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  for (const c of enc.close()) length += c.length;
  result = { ...seconds(t0, c0), length, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
} else if (mode === 'receipt') {
  const params = { opslimit: Number(args[0]), memlimit: Number(args[1]) };
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const ident = await pc.deriveReceiptIdentity(pc.newReceipt(), new Uint8Array(16), params);
  result = { ...seconds(t0, c0), lookupId: ident.lookupId };
} else if (mode === 'disclosure') {
  const readers = Array.from({ length: 4 }, () => pc.publicKeyOf(pc.randomBytes(32)));
  const text = new TextEncoder().encode('The grant went to the director\u2019s brother\u2019s firm. '.repeat(20));
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  for (let i = 0; i < Number(args[0]); i++) {
    const caseKey = pc.newCaseKey();
    for (const reader of readers) pc.sealTo(reader, caseKey);
    for (const field of ['category', 'summary', 'details', 'disclosed_elsewhere', 'contact']) {
      pc.encryptField(caseKey, '2026-0001', field, text);
    }
  }
  result = seconds(t0, c0);
}
result.startup = seconds(start, cpu);
process.stdout.write(JSON.stringify(result));
