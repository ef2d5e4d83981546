// The proof of work a checkout start needs when card testing is suspected: the ALTCHA scheme (version 1), solved
// here, in the reader's browser, by this file from our own server (never a third-party captcha, which would tell
// another company who supports this newsroom). The server's challenge says: find the number n (0..maxnumber) for
// which SHA-256(salt + n), in hex, is `challenge`. The answer goes back as ALTCHA's payload: base64 of JSON
// {algorithm, challenge, number, salt, signature}; checkout/proof.py verifies it with the `altcha` package.
(function () {
  "use strict";
  var BATCH = 500;  // digests in flight at once: fast, and the page stays responsive between batches

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16); }
    return out;
  }

  function digest(encoder, text) {
    return window.crypto.subtle.digest("SHA-256", encoder.encode(text)).then(hex);
  }

  // Resolves to the payload, or null when the browser cannot (no Web Crypto) or no number fits.
  async function solve(challenge) {
    if (!challenge || challenge.algorithm !== "SHA-256" || !(window.crypto && window.crypto.subtle)) { return null; }
    var encoder = new TextEncoder();
    var max = Math.min(parseInt(challenge.maxnumber, 10) || 0, 10000000);
    for (var start = 0; start <= max; start += BATCH) {
      var batch = [];
      for (var n = start; n < start + BATCH && n <= max; n++) { batch.push(digest(encoder, challenge.salt + n)); }
      var hashes = await Promise.all(batch);
      var found = hashes.indexOf(challenge.challenge);
      if (found >= 0) {
        return window.btoa(JSON.stringify({
          algorithm: challenge.algorithm,
          challenge: challenge.challenge,
          number: start + found,
          salt: challenge.salt,
          signature: challenge.signature
        }));
      }
    }
    return null;
  }

  window.readerfundProof = { solve: solve };
})();
