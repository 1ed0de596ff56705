// Test driver for static/seal/hidden-details.js: reads a JSON list of
// {"fn": "cleanHiddenDetails", "args": [filename, {"hex": ...}]} on stdin, prints the results as
// JSON with bytes as {"hex": ...} (an error as {"error": its class name, "message": ...}).
import * as hd from '../../static/seal/hidden-details.js';

const toHex = (b) => Buffer.from(b).toString('hex');
const decode = (v) => (v && typeof v === 'object' && 'hex' in v ? new Uint8Array(Buffer.from(v.hex, 'hex')) : v);
const encode = (v) => {
  if (v instanceof Uint8Array) return { hex: toHex(v) };
  if (v instanceof Set) return [...v].sort();
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v === undefined ? null : v;
};

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const results = [];
for (const call of JSON.parse(Buffer.concat(chunks).toString('utf8'))) {
  try {
    results.push(encode(await hd[call.fn](...call.args.map(decode))));
  } catch (error) {
    results.push({ error: error.constructor.name, message: String(error.message) });
  }
}
process.stdout.write(JSON.stringify(results));
