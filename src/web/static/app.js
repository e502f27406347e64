// sorsync: small progressive JavaScript. Everything works without it; with it the review queue
// has a keyboard flow (j/k move, a approve, r reject, o open).
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
  function press(selector) {
    var r = rows()[current];
    if (!r) { return; }
    var b = r.querySelector(selector);
    if (b) { b.click(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (rows().length) { mark(0); }
  });
  document.addEventListener("keydown", function (e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || !rows().length) { return; }
    switch (e.key) {
      case "j": mark(current + 1); break;
      case "k": mark(current - 1); break;
      case "a": press("button.approve"); break;
      case "r": press("button.reject"); break;
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
