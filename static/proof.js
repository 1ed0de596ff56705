// The disclosure and status forms' proof of work (portal/guard/proofs.py; SECURITY.md, "Proof of
// work and tickets"): find a number N such that SHA-256(challenge ":" N) starts with as many zero
// bits as the challenge asks, with the browser's own WebCrypto, and send it with the form. Started
// as soon as the page loads, so it is usually done before the form is filled in. Without script
// (or without WebCrypto) nothing happens here and the form is sent with its no-script ticket.
"use strict";
(function () {
  var subtle = window.crypto && window.crypto.subtle;
  if (!subtle || !window.TextEncoder) { return; }
  function zeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { bits += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { bits++; b <<= 1; }
      return bits;
    }
    return bits;
  }
  // A disclosure pays a bit more for each doubling of what it sends past the free size (the
  // server counts its Content-Length: portal/guard/proofs.py, check_bits), with room to spare for
  // the text and the form's own bytes.
  function sizeBits(form, input) {
    var free = parseInt(input.getAttribute("data-free-bytes") || "0", 10);
    if (!free) { return 0; }
    var total = 65536;
    form.querySelectorAll("input[type=file]").forEach(function (file) {
      for (var i = 0; i < file.files.length; i++) { total += file.files[i].size; }
    });
    form.querySelectorAll("textarea, input[type=text]").forEach(function (field) {
      total += 4 * field.value.length;
    });
    if (total <= free) { return 0; }
    var most = parseInt(input.getAttribute("data-max-extra") || "0", 10);
    return Math.min(most, Math.ceil(Math.log2(total / free)));
  }
  function bitsOf(challenge) { return parseInt(challenge.split(".")[2], 10); }
  async function solve(challenge, lane, atLeast) {
    // Under load the page names the reserved lane's bits: going that far costs more, and the
    // check is then not kept out by cheaper guesses.
    var need = Math.max(bitsOf(challenge), parseInt(lane || "0", 10) || 0, atLeast || 0);
    var encoder = new TextEncoder();
    for (var n = 0; ; n += 64) {
      var batch = [];
      for (var k = n; k < n + 64; k++) {
        batch.push(subtle.digest("SHA-256", encoder.encode(challenge + ":" + k)));
      }
      var digests = await Promise.all(batch);
      for (var j = 0; j < digests.length; j++) {
        if (zeroBits(new Uint8Array(digests[j])) >= need) { return String(n + j); }
      }
    }
  }
  function arm(form) {
    var challenge = form.querySelector('input[name="pow_challenge"]');
    var solution = form.querySelector('input[name="pow_solution"]');
    if (!challenge || !solution || !challenge.value) { return; }
    var lane = challenge.getAttribute("data-lane-bits");
    var solvedFor = 0;
    var solved = solve(challenge.value, lane).then(function (n) { solution.value = n; solvedFor = Math.max(bitsOf(challenge.value), parseInt(lane || "0", 10) || 0); });
    var sending = false;
    form.addEventListener("submit", function (event) {
      var base = parseInt(challenge.getAttribute("data-base-bits") || "0", 10);
      var need = base ? base + sizeBits(form, challenge) : 0;
      if (sending || (solution.value && solvedFor >= need)) { return; }
      event.preventDefault();
      sending = true;
      var status = form.querySelector("[data-proof-status]");  // the sign that it is still working
      if (status) { status.textContent = status.getAttribute("data-text"); }
      solved.then(function () {
        if (solvedFor >= need) { return; }
        return solve(challenge.value, lane, need).then(function (n) { solution.value = n; solvedFor = need; });
      }).then(function () { form.submit(); });
    });
  }
  document.querySelectorAll("form[data-proof]").forEach(arm);
})();
