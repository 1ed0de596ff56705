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
  async function solve(challenge, lane) {
    // Under load the page names the reserved lane's bits: going that far costs more, and the
    // check is then not kept out by cheaper guesses.
    var need = Math.max(parseInt(challenge.split(".")[2], 10), parseInt(lane || "0", 10) || 0);
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
    var solved = solve(challenge.value, challenge.getAttribute("data-lane-bits")).then(function (n) { solution.value = n; });
    var sending = false;
    form.addEventListener("submit", function (event) {
      if (solution.value || sending) { return; }
      event.preventDefault();
      sending = true;
      solved.then(function () { form.submit(); });
    });
  }
  document.querySelectorAll("form[data-proof]").forEach(arm);
})();
