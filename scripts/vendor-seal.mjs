// Copies the ES modules static/seal/portal-crypto.js needs from node_modules (installed by
// `npm ci --ignore-scripts`, pinned by package-lock.json) into static/seal/vendor/, so the portal
// serves them from its own origin. Plain copies: the only change is that an import of another
// @noble package ('@noble/hashes/sha2.js') becomes a relative path, since a browser has no
// node_modules and the page may not carry an inline import map; source-map comments are dropped
// (the maps point at src/, which is not copied). Same inputs give byte-identical outputs
// (tests/browser_crypto/test_vendor_build.py rebuilds and compares).
//
// Usage: node scripts/vendor-seal.mjs [--from node_modules] [--out static/seal/vendor]
import fs from 'node:fs';
import path from 'node:path';

const ENTRIES = [
  '@noble/ciphers/chacha.js',
  '@noble/ciphers/salsa.js',
  '@noble/ciphers/_poly1305.js',
  '@noble/ciphers/utils.js',
  '@noble/curves/ed25519.js',
  '@noble/hashes/argon2.js',
  '@noble/hashes/blake2.js',
  '@noble/hashes/sha2.js',
  '@noble/hashes/utils.js',
];
const PACKAGES = ['ciphers', 'curves', 'hashes'];
// Only statements at the start of a line: the same words inside doc comments are left alone.
const IMPORT = /^((?:import|export)\b[^\n;]*?\bfrom\s*|import\s*)(['"])([^'"]+)\2/gm;

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

const from = path.resolve(option('--from', 'node_modules'));
const out = path.resolve(option('--out', 'static/seal/vendor'));

// '@noble/hashes/sha2.js' -> 'hashes/sha2.js', the path under both node_modules/@noble and out.
function bare(spec) {
  const m = /^@noble\/([a-z]+)\/(.+\.js)$/.exec(spec);
  if (!m || !PACKAGES.includes(m[1])) throw new Error(`unexpected import ${spec}`);
  return `${m[1]}/${m[2]}`;
}

const files = new Map(); // 'hashes/sha2.js' -> rewritten text
const queue = ENTRIES.map(bare);
while (queue.length) {
  const rel = queue.shift();
  if (files.has(rel)) continue;
  const source = fs.readFileSync(path.join(from, '@noble', rel), 'utf8');
  const text = source
    .replace(IMPORT, (all, keyword, quote, spec) => {
      let target;
      if (spec.startsWith('.')) target = path.posix.join(path.posix.dirname(rel), spec);
      else target = bare(spec);
      queue.push(target);
      let local = path.posix.relative(path.posix.dirname(rel), target);
      if (!local.startsWith('.')) local = `./${local}`;
      return `${keyword}${quote}${local}${quote}`;
    })
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  files.set(rel, text);
}

fs.rmSync(out, { recursive: true, force: true });
const versions = [];
for (const pkg of PACKAGES) {
  const meta = JSON.parse(fs.readFileSync(path.join(from, '@noble', pkg, 'package.json'), 'utf8'));
  versions.push(`@noble/${pkg} ${meta.version}`);
  fs.mkdirSync(path.join(out, pkg), { recursive: true });
  fs.copyFileSync(path.join(from, '@noble', pkg, 'LICENSE'), path.join(out, pkg, 'LICENSE'));
}
for (const rel of [...files.keys()].sort()) {
  fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
  fs.writeFileSync(path.join(out, rel), files.get(rel));
}
fs.writeFileSync(
  path.join(out, 'VERSIONS.txt'),
  'Copied by scripts/vendor-seal.mjs from the npm registry (package-lock.json pins them):\n' +
    versions.map((v) => `${v}\n`).join('') +
    [...files.keys()].sort().map((f) => `  ${f}\n`).join(''),
);
