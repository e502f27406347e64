// sorsync: small progressive JavaScript. Everything works without it (every key is a button);
// with it the review queue and the proposal page have a keyboard flow: j/k move (on the proposal
// page: next/previous case), a approve, r reject / not in SOR, n create new, 1-3 pick a
// runner-up, u undo the last decision, o open.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue tr.item")); }
  var current = 0;
  function mark(i) {
    var r = rows();
    if (!r.length) { return; }
    current = Math.max(0, Math.min(i, r.length - 1));
    r.forEach(function (row, j) { row.classList.toggle("current", j === current); });
    r[current].scrollIntoView({ block: "nearest" });
  }
  // Where the keys act: the marked row of the queue, or the case on the proposal page.
  function scope() {
    var r = rows();
    if (r.length) { return r[current]; }
    return document.getElementById("case-keys");
  }
  function press(selector) {
    var s = scope();
    var b = s && s.querySelector(selector);
    if (b) { b.click(); return true; }
    return false;
  }
  function follow(id) {
    var a = document.getElementById(id);
    if (a && a.href) { window.location.href = a.href; }
  }
  // What-if: show only the fields the chosen action uses.
  function whatifFields() {
    var sel = document.getElementById("whatif-action");
    if (!sel) { return; }
    var show = function () {
      Array.prototype.forEach.call(document.querySelectorAll(".for-action"), function (el) {
        el.hidden = (el.dataset.actions || "").split(" ").indexOf(sel.value) < 0;
      });
    };
    sel.addEventListener("change", show);
    show();
  }
  document.addEventListener("DOMContentLoaded", function () {
    whatifFields();
    var q = document.getElementById("queue");
    if (rows().length) { mark(parseInt((q && q.dataset.cursor) || "0", 10) || 0); }
  });
  document.addEventListener("keydown", function (e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var inQueue = rows().length > 0;
    if (!inQueue && !document.getElementById("case-keys")) { return; }
    switch (e.key) {
      case "j": if (inQueue) { mark(current + 1); } else { follow("next"); } break;
      case "k": if (inQueue) { mark(current - 1); } else { follow("prev"); } break;
      case "a": press("button.approve"); break;
      case "r": press("button.reject"); break;
      case "n": press("button.create-new"); break;
      case "1": case "2": case "3": press("button.pick[data-n='" + e.key + "']"); break;
      case "u": {
        var u = document.querySelector("#undo button");
        if (u) { u.click(); }
        break;
      }
      case "o": {
        var r = rows()[current];
        if (r && r.dataset.open) { window.location.href = r.dataset.open; }
        break;
      }
      default: return;
    }
    e.preventDefault();
  });
})();
