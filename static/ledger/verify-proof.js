// "Check it in this browser" on a ledger line's proof page (apps/ledger/log_views.py).
//
// Fetches the inclusion proof (the same JSON scripts/verify_log.py reads), recomputes the
// RFC 9162 root from the line's text and its audit path with SHA-256 (crypto.subtle), and
// says whether it equals the root of the signed checkpoint. The signature itself is checked
// offline by the script. The box stays hidden where crypto.subtle is missing (plain HTTP,
// old browsers): never a button that does nothing.
(function () {
  "use strict";

  function fromBase64(text) {
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function toBase64(bytes) {
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw);
  }

  function sha256(prefix, parts) {
    var length = 1;
    parts.forEach(function (p) { length += p.length; });
    var data = new Uint8Array(length);
    data[0] = prefix;
    var at = 1;
    parts.forEach(function (p) { data.set(p, at); at += p.length; });
    return crypto.subtle.digest("SHA-256", data).then(function (d) { return new Uint8Array(d); });
  }

  // RFC 9162 2.1.3.2: the root an audit path leads to, or null when the path has the wrong shape.
  function rootFromPath(index, size, leafHash, path) {
    if (index >= size) return Promise.resolve(null);
    var fn = index, sn = size - 1, step = Promise.resolve(leafHash);
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) return Promise.resolve(null);
      var p = path[i];
      if (fn % 2 === 1 || fn === sn) {
        step = step.then(function (p) { return function (r) { return sha256(1, [p, r]); }; }(p));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        step = step.then(function (p) { return function (r) { return sha256(1, [r, p]); }; }(p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) return Promise.resolve(null);
    return step;
  }

  function check(box, status) {
    status.textContent = "…";
    fetch(box.dataset.proofUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (doc) {
        var signedRoot = doc.checkpoint.note.split("\n")[2];
        var leaf = new TextEncoder().encode(doc.leaf);
        return sha256(0, [leaf]).then(function (leafHash) {
          if (toBase64(leafHash) !== doc.leaf_hash) return false;
          return rootFromPath(doc.leaf_index, doc.tree_size, leafHash, doc.proof.map(fromBase64)).then(function (root) {
            return root !== null && toBase64(root) === signedRoot && signedRoot === box.dataset.root;
          });
        });
      })
      .then(function (ok) {
        status.textContent = ok ? box.dataset.ok : box.dataset.bad;
        status.className = "message " + (ok ? "message-success" : "message-error");
      })
      .catch(function () { status.textContent = box.dataset.error; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!(window.crypto && crypto.subtle && window.fetch && window.TextEncoder)) return;
    document.querySelectorAll(".proof-check").forEach(function (box) {
      var status = box.querySelector("[role=status]");
      box.querySelector("button").addEventListener("click", function () { check(box, status); });
      box.hidden = false;
    });
  });
})();
