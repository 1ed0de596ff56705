// Hidden details removed in the discloser's browser (issue 27), the same way the server's
// portal/hidden_details/ removes them, for the formats a browser can clean in plain script:
// JPEG (APPn segments other than JFIF, ICC and Adobe, comments and trailing data removed; the
// image data copied byte for byte), PNG (only the chunks that draw it) and Office Open XML (.docx, .xlsx, .pptx: document properties
// emptied, custom properties, thumbnails, printer settings, people lists and customXml dropped with
// the relationships and content types naming them, names in comments and tracked changes blanked,
// revision ids removed, embedded JPEG and PNG pictures cleaned). Anything else comes back unchecked.
// The report names kinds only (the server's plain words, portal/hidden_details/kinds.py), never a
// value found. Plain script only (Tor Browser's "Safer" level); zip members are inflated with the
// platform's DecompressionStream('deflate-raw').
import { concat } from './crypto/format.js';

export const KINDS = Object.freeze({
  AUTHOR: 'names of authors or owners',
  LOCATION: 'location (GPS position)',
  DEVICE: 'camera or device details',
  DATES: 'dates and times of creation and editing',
  SOFTWARE: 'the software and its version',
  EDIT_HISTORY: 'edit history (revision numbers, editing time)',
  COMMENT_AUTHORS: 'names and dates on comments',
  TRACKED_CHANGES: 'names and dates on tracked changes',
  PROPERTIES: 'document properties (title, subject, keywords, custom properties)',
  COMPANY: 'company or organisation name',
  PATHS: 'template names and file paths',
  THUMBNAIL: 'an embedded preview picture',
  PRINTER: 'printer settings',
  PEOPLE: 'a list of the people who worked on it',
  LINKED_DATA: 'linked data from a document server (SharePoint)',
  XMP: 'embedded XMP metadata',
  TEXT_NOTES: 'text notes and comments hidden in the image',
  IMAGE_DETAILS: 'photo details (EXIF) in embedded pictures',
  OTHER: 'other hidden data',
});

/** A file this module cannot read as the format its bytes claim. */
export class Unreadable extends Error {
  constructor(message) {
    super(message);
    this.name = 'Unreadable';
  }
}

const MAX_ENTRIES = 10_000;
const MAX_TOTAL_BYTES = 256 * 1024 * 1024; // all rewritten zip members, uncompressed
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function startsWith(bytes, at, text) {
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

// ---- JPEG -------------------------------------------------------------------------------------

const KEPT_APP = { 0xe0: ['JFIF\0'], 0xe2: ['ICC_PROFILE\0'], 0xee: ['Adobe'] };
const isStandalone = (m) => m === 0x01 || (m >= 0xd0 && m <= 0xd7);

// The tags of a TIFF block (EXIF after its 'Exif\0\0'): Map of IFD -> Map(tag -> [type, count, valueAt]).
function tiffDirectories(tiff) {
  const little = startsWith(tiff, 0, 'II');
  if (!little && !startsWith(tiff, 0, 'MM')) throw new Unreadable('not a TIFF block');
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const u16 = (at) => view.getUint16(at, little);
  const u32 = (at) => view.getUint32(at, little);
  const read = (at) => {
    const tags = new Map();
    const n = u16(at);
    for (let i = 0; i < n; i++) {
      const e = at + 2 + i * 12;
      tags.set(u16(e), { count: u32(e + 4), value: u32(e + 8), short: u16(e + 8) });
    }
    return { tags, next: u32(at + 2 + n * 12) };
  };
  const ifd0 = read(u32(4));
  const sub = (tag) => {
    const entry = ifd0.tags.get(tag);
    return entry ? read(entry.value).tags : new Map();
  };
  return { ifd0: ifd0.tags, ifd1: ifd0.next ? read(ifd0.next).tags : new Map(), gps: sub(0x8825), exif: sub(0x8769) };
}

function exifKinds(tiff) {
  const found = new Set([KINDS.DEVICE]);
  let dirs;
  try {
    dirs = tiffDirectories(tiff);
  } catch {
    return found; // an unreadable EXIF block is still removed
  }
  const has = (tags, tag) => tags.has(tag) && tags.get(tag).count > 0;
  if (dirs.gps.size) found.add(KINDS.LOCATION);
  if (has(dirs.ifd0, 0x013b) || has(dirs.ifd0, 0x8298)) found.add(KINDS.AUTHOR);
  if (has(dirs.ifd0, 0x0132) || has(dirs.exif, 0x9003)) found.add(KINDS.DATES);
  if (has(dirs.ifd0, 0x0131)) found.add(KINDS.SOFTWARE);
  return found;
}

function appKinds(marker, payload) {
  if (marker === 0xe1 && startsWith(payload, 0, 'Exif\0')) {
    const found = exifKinds(payload.subarray(6));
    let thumbnail = payload.length > 20000; // IFD1: the thumbnail's
    try {
      thumbnail = thumbnail || tiffDirectories(payload.subarray(6)).ifd1.size > 0;
    } catch {
      return found;
    }
    if (thumbnail) found.add(KINDS.THUMBNAIL);
    return found;
  }
  if (marker === 0xe1) return new Set([KINDS.XMP]);
  if (marker === 0xed) return new Set([KINDS.AUTHOR, KINDS.PROPERTIES]);
  if (marker === 0xfe) return new Set([KINDS.TEXT_NOTES]);
  if (marker === 0xe0) return new Set([KINDS.THUMBNAIL]);
  return new Set([KINDS.OTHER]);
}

/**
 * A JPEG without its hidden details, as the server's strip_jpeg makes it.
 * @param {Uint8Array} data the file's bytes
 * @returns {{cleaned: Uint8Array, found: Set<string>}} found: KINDS values removed
 * @throws {Unreadable} not a JPEG, or cut short
 */
export function stripJpeg(data) {
  if (!(data[0] === 0xff && data[1] === 0xd8)) throw new Unreadable('not a JPEG');
  const out = [data.subarray(0, 2)];
  const found = new Set();
  let at = 2;
  for (;;) {
    if (at + 2 > data.length || data[at] !== 0xff) throw new Unreadable('JPEG segment expected');
    const marker = data[at + 1];
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    if (marker === 0xd9) {
      out.push(data.subarray(at, at + 2));
      if (data.subarray(at + 2).some((b) => b !== 0)) found.add(KINDS.OTHER);
      break;
    }
    if (isStandalone(marker)) {
      out.push(data.subarray(at, at + 2));
      at += 2;
      continue;
    }
    if (at + 4 > data.length) throw new Unreadable('JPEG cut short');
    const end = at + 2 + ((data[at + 2] << 8) | data[at + 3]);
    if (end > data.length) throw new Unreadable('JPEG cut short');
    const payload = data.subarray(at + 4, end);
    let kept = !(marker >= 0xe0 && marker <= 0xef) && marker !== 0xfe;
    kept = kept || (KEPT_APP[marker] || []).some((p) => startsWith(payload, 0, p));
    if (kept) out.push(data.subarray(at, end));
    else for (const k of appKinds(marker, payload)) found.add(k);
    at = end;
    if (marker === 0xda) {
      // entropy-coded data runs to the next marker that is not a restart or a stuffed byte
      let scan = at;
      for (;;) {
        scan = data.indexOf(0xff, scan);
        if (scan < 0 || scan + 1 >= data.length) throw new Unreadable('JPEG without its end');
        const follower = data[scan + 1];
        if (follower === 0x00 || isStandalone(follower) || follower === 0xff) {
          scan += follower === 0xff ? 1 : 2;
          continue;
        }
        break;
      }
      out.push(data.subarray(at, scan));
      at = scan;
    }
  }
  return { cleaned: concat(...out), found };
}

// ---- PNG --------------------------------------------------------------------------------------

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_KEPT = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'cHRM', 'gAMA', 'iCCP', 'sBIT', 'sRGB',
  'bKGD', 'pHYs', 'sPLT', 'hIST', 'acTL', 'fcTL', 'fdAT']);
const PNG_NAMED = { Author: KINDS.AUTHOR, Copyright: KINDS.AUTHOR, Software: KINDS.SOFTWARE, 'Creation Time': KINDS.DATES };

function pngKinds(kind, payload) {
  if (kind === 'tEXt' || kind === 'zTXt' || kind === 'iTXt') {
    const end = payload.indexOf(0);
    const keyword = String.fromCharCode(...payload.subarray(0, end < 0 ? payload.length : end));
    if (keyword === 'XML:com.adobe.xmp') return new Set([KINDS.XMP]);
    return new Set([Object.hasOwn(PNG_NAMED, keyword) ? PNG_NAMED[keyword] : KINDS.TEXT_NOTES]);
  }
  if (kind === 'eXIf') return exifKinds(payload);
  if (kind === 'tIME') return new Set([KINDS.DATES]);
  return new Set([KINDS.OTHER]);
}

/**
 * A PNG with only the chunks that draw it, as the server's strip_png makes it.
 * @param {Uint8Array} data the file's bytes
 * @returns {{cleaned: Uint8Array, found: Set<string>}} found: KINDS values removed
 * @throws {Unreadable} not a PNG, cut short, or an unknown critical chunk
 */
export function stripPng(data) {
  if (!PNG_SIGNATURE.every((b, i) => data[i] === b)) throw new Unreadable('not a PNG');
  const out = [data.subarray(0, 8)];
  const found = new Set();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 8;
  while (at < data.length) {
    if (at + 12 > data.length) throw new Unreadable('PNG cut short');
    const length = view.getUint32(at);
    const kind = String.fromCharCode(...data.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (end > data.length) throw new Unreadable('PNG chunk cut short');
    if (PNG_KEPT.has(kind)) out.push(data.subarray(at, end));
    else if (kind[0] >= 'A' && kind[0] <= 'Z') throw new Unreadable('unknown critical PNG chunk');
    else for (const k of pngKinds(kind, data.subarray(at + 8, at + 8 + length))) found.add(k);
    at = end;
    if (kind === 'IEND') {
      if (data.subarray(at).some((b) => b !== 0)) found.add(KINDS.OTHER);
      break;
    }
  }
  return { cleaned: concat(...out), found };
}

// ---- zip --------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Members of a zip in stored order: {name, method, crc, size, compressed (its bytes as stored)}.
function readZip(data) {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let end = -1;
  for (let at = data.length - 22; at >= Math.max(0, data.length - 22 - 65535); at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Unreadable('not a readable zip');
  const count = view.getUint16(end + 10, true);
  if (count > MAX_ENTRIES) throw new Unreadable('too many entries');
  let at = view.getUint32(end + 16, true);
  const members = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > data.length || view.getUint32(at, true) !== 0x02014b50) throw new Unreadable('not a readable zip');
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(data.subarray(at + 46, at + 46 + nameLength));
    if (flags & 1) throw new Unreadable('an encrypted member');
    if (method !== 0 && method !== 8) throw new Unreadable('a compression this reader does not know');
    if (view.getUint32(local, true) !== 0x04034b50) throw new Unreadable('not a readable zip');
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressedSize > data.length) throw new Unreadable('zip member cut short');
    if (!name.endsWith('/') && !members.some((m) => m.name === name)) {
      members.push({ name, method, crc, size, compressed: data.subarray(start, start + compressedSize) });
    }
    at += 46 + nameLength + extra + comment;
  }
  return members;
}

async function inflate(member, budget) {
  if (member.method === 0) return member.compressed;
  const stream = new Blob([member.compressed]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const parts = [];
  for await (const part of stream) {
    budget.left -= part.length;
    if (budget.left < 0) throw new Unreadable('uncompressed size beyond the bound');
    parts.push(part);
  }
  return concat(...parts);
}

// A zip of the members, in order; rewritten ones ({bytes}) stored uncompressed, the others copied
// as they were compressed. No time (1980-01-01), comment or extra field of the original.
function writeZip(members) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const m of members) {
    const name = encoder.encode(m.name);
    const stored = m.bytes !== undefined;
    const body = stored ? m.bytes : m.compressed;
    const crc = stored ? crc32(m.bytes) : m.crc;
    const size = stored ? m.bytes.length : m.size;
    const method = stored ? 0 : m.method;
    const head = new Uint8Array(30 + name.length);
    const h = new DataView(head.buffer);
    h.setUint32(0, 0x04034b50, true);
    h.setUint16(4, 20, true);
    h.setUint16(6, 0x0800, true); // names in UTF-8
    h.setUint16(8, method, true);
    h.setUint16(10, 0, true);
    h.setUint16(12, 0x21, true); // 1980-01-01
    h.setUint32(14, crc, true);
    h.setUint32(18, body.length, true);
    h.setUint32(22, size, true);
    h.setUint16(26, name.length, true);
    head.set(name, 30);
    const entry = new Uint8Array(46 + name.length);
    const c = new DataView(entry.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 0x0314, true); // made by unix, so the mode below counts
    c.setUint16(6, 20, true);
    c.setUint16(8, 0x0800, true);
    c.setUint16(10, method, true);
    c.setUint16(14, 0x21, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, body.length, true);
    c.setUint32(24, size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(38, (0o100644 << 16) >>> 0, true);
    c.setUint32(42, offset, true);
    entry.set(name, 46);
    locals.push(head, body);
    central.push(entry);
    offset += head.length + body.length;
  }
  const directory = concat(...central);
  const tail = new Uint8Array(22);
  const t = new DataView(tail.buffer);
  t.setUint32(0, 0x06054b50, true);
  t.setUint16(8, members.length, true);
  t.setUint16(10, members.length, true);
  t.setUint32(12, directory.length, true);
  t.setUint32(16, offset, true);
  return concat(...locals, directory, tail);
}

// ---- Office Open XML --------------------------------------------------------------------------

const DROPPED = [
  [/^docProps\/custom\.xml$/, KINDS.PROPERTIES],
  [/^docProps\/thumbnail\.[A-Za-z]+$/, KINDS.THUMBNAIL],
  [/^customXml\//, KINDS.LINKED_DATA],
  [/^(?:word|ppt|xl)\/printerSettings\//, KINDS.PRINTER],
  [/^(?:word|ppt|xl)\/people\.xml$/, KINDS.PEOPLE],
  [/^(?:word|ppt|xl)\/persons\/person\.xml$/, KINDS.PEOPLE],
];
const CORE_KINDS = {
  creator: KINDS.AUTHOR,
  lastModifiedBy: KINDS.AUTHOR,
  created: KINDS.DATES,
  modified: KINDS.DATES,
  lastPrinted: KINDS.DATES,
  revision: KINDS.EDIT_HISTORY,
};
const APP_KINDS = {
  Company: KINDS.COMPANY,
  Manager: KINDS.AUTHOR,
  Template: KINDS.PATHS,
  TotalTime: KINDS.EDIT_HISTORY,
  Application: KINDS.SOFTWARE,
  AppVersion: KINDS.SOFTWARE,
  HyperlinkBase: KINDS.PATHS,
};
const NAME_ATTRIBUTE = /(\s(?:[\w.-]+:)?(?:author|initials|userId|providerId|displayName|userName)=)("[^"]*[^"\s][^"]*"|'[^']*[^'\s][^']*')/g;
const RSID_ATTRIBUTE = /\s(?:[\w.-]+:)?rsid\w*=(?:"[^"]*"|'[^']*')/g;
const local = (qname) => qname.slice(qname.indexOf(':') + 1);

function parseable(text) {
  if (/<!DOCTYPE/i.test(text)) throw new Unreadable('XML with a DTD');
  return text;
}

// The properties part with its root element emptied; the kinds of the children that had content.
// Keeps the XML declaration and the root's start tag (its namespaces) as they were.
function emptyProperties(text, named, other, found) {
  parseable(text);
  const root = /<([\w.:-]+)(\s[^>]*)?>/.exec(text.replace(/^<\?xml[^>]*\?>/, (d) => ' '.repeat(d.length)));
  if (!root) throw new Unreadable('malformed XML');
  if (root[0].endsWith('/>')) return text;
  const close = text.lastIndexOf(`</${root[1]}`);
  if (close < 0) throw new Unreadable('malformed XML');
  const body = text.slice(root.index + root[0].length, close);
  const child = /<([\w.:-]+)(?:\s[^>]*?)?(\/>|>([\s\S]*?)<\/\1\s*>)/g;
  for (const m of body.matchAll(child)) {
    const kind = named[local(m[1])] ?? other;
    if (kind && m[3] !== undefined && m[3].trim()) found.add(kind);
  }
  return text.slice(0, root.index + root[0].length) + text.slice(close);
}

const REVISION_TAGS = new Set(['ins', 'del', 'moveFrom', 'moveTo', 'rPrChange', 'pPrChange', 'sectPrChange',
  'tblPrChange', 'trPrChange', 'tcPrChange', 'numberingChange', 'cellIns', 'cellDel', 'cellMerge']);
const COMMENT_PARTS = /(comment|authors|persons|people|revision|threaded)/i;
const DATE_ATTRIBUTE = /\s(?:[\w.-]+:)?(?:date|dateUtc|dt)=(?:"[^"]*"|'[^']*')/g;
const REMOVED_ELEMENTS = { rsids: KINDS.EDIT_HISTORY, attachedTemplate: KINDS.PATHS, docVars: KINDS.PROPERTIES, absPath: KINDS.PATHS };

// One XML part as the server's _clean_part leaves it, tag by tag: revision ids removed, names on
// comments and tracked changes blanked (the schema requires them), their dates removed, and the
// elements that only carry details (rsids, attachedTemplate, docVars, absPath) removed.
function cleanPart(name, text, found) {
  parseable(text);
  const aboutPeople = COMMENT_PARTS.test(name);
  let out = text;
  for (const [tag, kind] of Object.entries(REMOVED_ELEMENTS)) {
    const element = new RegExp(`<((?:[\\w.-]+:)?${tag})\\b(?:[^>]*/>|[^>]*>[\\s\\S]*?</\\1\\s*>)`, 'g');
    out = out.replace(element, () => {
      found.add(kind);
      return '';
    });
  }
  out = out.replace(/<((?:[\w.-]+:)?[\w.-]+)(\s[^<>]*?)?(\/?)>/g, (all, qname, attributes, slash) => {
    if (!attributes) return all;
    const revision = REVISION_TAGS.has(local(qname));
    const kind = revision ? KINDS.TRACKED_CHANGES : KINDS.COMMENT_AUTHORS;
    let kept = attributes.replace(RSID_ATTRIBUTE, () => {
      found.add(KINDS.EDIT_HISTORY);
      return '';
    });
    kept = kept.replace(NAME_ATTRIBUTE, (a, attribute) => {
      found.add(kind);
      return `${attribute}""`;
    });
    if (revision || aboutPeople) {
      kept = kept.replace(DATE_ATTRIBUTE, () => {
        found.add(kind);
        return '';
      });
    }
    return `<${qname}${kept}${slash}>`;
  });
  if (aboutPeople) {
    out = out.replace(/(<((?:[\w.-]+:)?(?:author|name))>)([^<]+)(<\/\2>)/g, (all, open, q, value, close) => {
      found.add(KINDS.COMMENT_AUTHORS);
      return `${open}${close}`;
    });
  }
  return out;
}

function dropReferences(name, text, dropped) {
  if (name === '[Content_Types].xml') {
    return text.replace(/<Override\b[^>]*\/>/g, (tag) => {
      const part = /PartName="\/?([^"]*)"/.exec(tag);
      return part && dropped.has(part[1]) ? '' : tag;
    });
  }
  const base = name.split('/').slice(0, -2).join('/');
  return text.replace(/<Relationship\b[^>]*\/>/g, (tag) => {
    if (/TargetMode="External"/.test(tag)) return tag;
    const target = (/Target="([^"]*)"/.exec(tag) || [])[1] || '';
    const parts = [];
    for (const p of (target.startsWith('/') ? target.slice(1) : `${base}/${target}`).split('/')) {
      if (p === '..') parts.pop();
      else if (p && p !== '.') parts.push(p);
    }
    return dropped.has(parts.join('/')) ? '' : tag;
  });
}

/**
 * An Office Open XML package (.docx, .xlsx, .pptx) without its hidden details.
 * @param {Uint8Array} data the file's bytes
 * @returns {Promise<{cleaned: Uint8Array, found: Set<string>}>} found: KINDS values removed
 * @throws {Unreadable} not a zip with [Content_Types].xml, an encrypted member, XML with a DTD, a bomb
 */
export async function cleanOffice(data) {
  const members = readZip(data);
  if (!members.some((m) => m.name === '[Content_Types].xml')) throw new Unreadable('not an Office Open XML package');
  const found = new Set();
  const dropped = new Set();
  const budget = { left: MAX_TOTAL_BYTES };
  const kept = [];
  for (const m of members) {
    const rule = DROPPED.find(([pattern]) => pattern.test(m.name));
    if (rule) {
      dropped.add(m.name);
      found.add(rule[1]);
    } else kept.push(m);
  }
  for (const m of kept) {
    const lower = m.name.toLowerCase();
    const xml = lower.endsWith('.xml') || lower.endsWith('.rels');
    const png = lower.endsWith('.png');
    if (!xml && !png && !lower.endsWith('.jpg') && !lower.endsWith('.jpeg')) continue;
    const bytes = await inflate(m, budget);
    if (!xml) {
      const picture = png ? stripPng(bytes) : stripJpeg(bytes);
      if (picture.found.size) {
        found.add(KINDS.IMAGE_DETAILS);
        m.bytes = picture.cleaned;
      }
      continue;
    }
    let text;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new Unreadable('malformed XML');
    }
    let out;
    if (m.name === 'docProps/core.xml') out = emptyProperties(text, CORE_KINDS, KINDS.PROPERTIES, found);
    else if (m.name === 'docProps/app.xml') out = emptyProperties(text, APP_KINDS, null, found);
    else if (lower.endsWith('.rels') || m.name === '[Content_Types].xml') out = dropReferences(m.name, text, dropped);
    else if (!m.name.startsWith('docProps/')) out = cleanPart(m.name, text, found);
    else out = text;
    if (m.name.endsWith('settings.xml.rels')) {
      out = out.replace(/<Relationship\b[^>]*\/attachedTemplate"[^>]*\/>/g, () => {
        found.add(KINDS.PATHS);
        return '';
      });
    }
    if (out !== text) m.bytes = encoder.encode(out);
  }
  return { cleaned: writeZip(kept), found };
}

const OFFICE = /\.(?:docx|docm|xlsx|xlsm|pptx|pptm)$/i;

/**
 * A file's hidden details removed where the browser can, for the sealing page.
 * @param {string} filename the name the discloser's file has (its extension picks Office formats)
 * @param {Uint8Array} data the file's bytes
 * @returns {Promise<{outcome: string, checked: boolean, cleaned: Uint8Array, found: string[]}>}
 *   outcome "cleaned" (checked true): `cleaned` is the file without the details named in `found`
 *   (KINDS values, sorted; empty when there were none). outcome "unknown" (a kind of file the
 *   browser does not clean) or "unreadable" (not what its kind says, or beyond a bound): checked
 *   false, `cleaned` is `data` unchanged and the page says the details could not be checked. The
 *   outcomes are those of the server's sandboxed child (portal/hidden_details/child.py).
 */
export async function cleanHiddenDetails(filename, data) {
  try {
    let result = null;
    if (data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) result = stripJpeg(data);
    else if (PNG_SIGNATURE.every((b, i) => data[i] === b)) result = stripPng(data);
    else if (OFFICE.test(filename) && startsWith(data, 0, 'PK')) result = await cleanOffice(data);
    if (result) return { outcome: 'cleaned', checked: true, cleaned: result.cleaned, found: [...result.found].sort() };
    return { outcome: 'unknown', checked: false, cleaned: data, found: [] };
  } catch {
    // Unreadable, and whatever a hostile file makes the platform throw (a DataView read out of
    // range, a corrupt deflate stream): the file goes as chosen, never refused.
    return { outcome: 'unreadable', checked: false, cleaned: data, found: [] };
  }
}
