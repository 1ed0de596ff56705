// Checks a proof of disclosure (a signed acknowledgement) entirely in the page: the file is read
// from the disk and never sent. The same rules as crypto.verify_acknowledgement: the exact
// canonical bytes (sorted keys, no spaces, ASCII with \u escapes, one final new line), the key
// expected, and an Ed25519 signature over CONTEXT followed by the canonical statement.
(function () {
  "use strict";
  var CONTEXT = "protected-disclosure-acknowledgement/1\n";
  var MAX_BYTES = 64 * 1024;
  var WORDS = [["case_ref", "Case reference"], ["channel", "Received by"],
    ["received_day", "Received on"], ["acknowledged_day", "Acknowledged on"], ["law", "Under"]];

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  var DAYS = {received_day: true, acknowledged_day: true};

  // A signed day (YYYY-MM-DD) as the portal's pages write it ("7 December 2026"), in a <time>
  // that keeps the signed value; anything else exactly as signed.
  function shown(dd, name, value) {
    var m = DAYS[name] && /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!m || +m[2] < 1 || +m[2] > 12) { dd.textContent = value; return; }
    var time = document.createElement("time");
    time.setAttribute("datetime", value);
    time.textContent = (+m[3]) + " " + MONTHS[+m[2] - 1] + " " + m[1];
    dd.appendChild(time);
  }

  function quote(s) {
    var out = "\"";
    for (var i = 0; i < s.length; i++) {
      var ch = s.charAt(i), code = s.charCodeAt(i);
      if (ch === "\"") { out += "\\\""; }
      else if (ch === "\\") { out += "\\\\"; }
      else if (ch === "\n") { out += "\\n"; }
      else if (ch === "\r") { out += "\\r"; }
      else if (ch === "\t") { out += "\\t"; }
      else if (ch === "\b") { out += "\\b"; }
      else if (ch === "\f") { out += "\\f"; }
      else if (code < 0x20 || code > 0x7e) { out += "\\u" + ("000" + code.toString(16)).slice(-4); }
      else { out += ch; }
    }
    return out + "\"";
  }

  function canonical(value) {
    if (typeof value === "string") { return quote(value); }
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return "{" + Object.keys(value).sort().map(function (k) {
        return quote(k) + ":" + canonical(value[k]);
      }).join(",") + "}";
    }
    throw new Error("not an acknowledgement file (a value that is not text)");
  }

  function fromHex(hex) {
    var bytes = new Uint8Array(hex.length / 2);
    for (var i = 0; i < bytes.length; i++) { bytes[i] = parseInt(hex.substr(i * 2, 2), 16); }
    return bytes;
  }

  function ascii(text) { return new TextEncoder().encode(text); }

  function parse(bytes) {
    if (bytes.length > MAX_BYTES || bytes.length === 0 || bytes[bytes.length - 1] !== 10) {
      throw new Error("this is not a proof file (wrong size or ending)");
    }
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] > 0x7e) { throw new Error("the file was changed: it holds characters a proof never has"); }
    }
    var text = new TextDecoder("ascii").decode(bytes);
    var envelope;
    try { envelope = JSON.parse(text.slice(0, -1)); } catch (e) { throw new Error("this is not a proof file (not JSON)"); }
    var keys = envelope && typeof envelope === "object" ? Object.keys(envelope).sort().join(",") : "";
    if (keys !== "signature,signing_key,statement" || typeof envelope.statement !== "object" ||
        !/^[0-9a-f]{128}$/.test(envelope.signature) || !/^[0-9a-f]{64}$/.test(envelope.signing_key)) {
      throw new Error("this is not a proof file (fields missing or malformed)");
    }
    if (canonical(envelope) + "\n" !== text) {
      throw new Error("the file was changed: it is not in its signed form");
    }
    return envelope;
  }

  function check(bytes, expectedKey) {
    var envelope;
    try { envelope = parse(bytes); } catch (e) { return Promise.resolve({ genuine: false, why: e.message }); }
    if (!/^[0-9a-f]{64}$/.test(expectedKey)) {
      return Promise.resolve({ genuine: null, why: "the organisation's key must be 64 hexadecimal characters (0-9, a-f)" });
    }
    if (envelope.signing_key !== expectedKey) {
      return Promise.resolve({ genuine: false, why: "it was signed with a different key than the organisation's" });
    }
    if (!window.crypto || !window.crypto.subtle) {
      return Promise.resolve({ genuine: null, why: "this browser cannot check signatures here" });
    }
    return window.crypto.subtle.importKey("raw", fromHex(envelope.signing_key), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) {
        return window.crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(envelope.signature),
          ascii(CONTEXT + canonical(envelope.statement)));
      })
      .then(function (good) {
        return good ? { genuine: true, statement: envelope.statement }
          : { genuine: false, why: "the signature does not match: the statement or signature was changed" };
      }, function () {
        return { genuine: null, why: "this browser cannot check Ed25519 signatures" };
      });
  }

  function show(box, result) {
    box.textContent = "";
    var verdict = document.createElement("p");
    verdict.className = "verdict " + (result.genuine ? "genuine" : "not-genuine");
    verdict.id = "verdict-text";
    box.setAttribute("data-verdict", result.genuine === true ? "genuine" : result.genuine === false ? "not-genuine" : "unchecked");
    if (result.genuine === true) {
      verdict.textContent = "Genuine: signed with the organisation's key, and not changed.";
      box.appendChild(verdict);
      var list = document.createElement("dl");
      WORDS.forEach(function (pair) {
        var dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = pair[1];
        shown(dd, pair[0], result.statement[pair[0]] || "");
        list.appendChild(dt);
        list.appendChild(dd);
      });
      box.appendChild(list);
    } else if (result.genuine === false) {
      verdict.textContent = "Not genuine: " + result.why + ".";
      box.appendChild(verdict);
    } else {
      verdict.textContent = "Not checked: " + result.why + ". Use the command portal verify-ack FILE --key KEY instead.";
      box.appendChild(verdict);
    }
  }

  function start() {
    var checker = document.getElementById("checker");
    if (!checker) { return; }
    checker.hidden = false;
    var button = document.getElementById("check-proof");
    var input = document.getElementById("proof-file");
    var keyBox = document.getElementById("proof-key");
    var box = document.getElementById("verdict");
    button.addEventListener("click", function () {
      var file = input.files && input.files[0];
      if (!file) { box.textContent = "Choose the proof file first."; return; }
      var expected = keyBox.value.trim().toLowerCase();
      file.arrayBuffer().then(function (buffer) {
        return check(new Uint8Array(buffer), expected);
      }).then(function (result) { show(box, result); });
    });
  }

  start();
}());
