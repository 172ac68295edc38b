// Keyboard shortcuts for the review UI (no build step).
// List: j/k move the selection, Enter or o opens it.
// Item: j/k next/previous item in the list, c confirm, d dismiss, e escalate (each focuses its
// form; Enter submits), Escape leaves a field.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function listPage() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr"));
    var idx = -1;
    rows.forEach(function (row, k) {
      row.addEventListener("click", function (ev) {
        if (ev.target.tagName !== "A") { window.location.href = row.dataset.href; }
      });
    });
    function select(k) {
      if (!rows.length) { return; }
      idx = Math.max(0, Math.min(rows.length - 1, k));
      rows.forEach(function (r) { r.classList.remove("selected"); });
      rows[idx].classList.add("selected");
      rows[idx].scrollIntoView({ block: "nearest" });
    }
    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) { return; }
      if (ev.key === "j") { select(idx + 1); ev.preventDefault(); }
      else if (ev.key === "k") { select(idx - 1); ev.preventDefault(); }
      else if ((ev.key === "Enter" || ev.key === "o") && idx >= 0) { window.location.href = rows[idx].dataset.href; ev.preventDefault(); }
    });
  }
  function itemPage() {
    var targets = { c: "confirm-type", d: "dismiss-note", e: "escalate-note" };
    document.addEventListener("keydown", function (ev) {
      var el = document.activeElement;
      if (ev.key === "Escape" && typing(el)) { el.blur(); return; }
      if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(el)) { return; }
      var link = null;
      if (ev.key === "j") { link = document.getElementById("next-item"); }
      else if (ev.key === "k") { link = document.getElementById("prev-item"); }
      if (link) { window.location.href = link.href; ev.preventDefault(); return; }
      var id = targets[ev.key];
      if (id && document.getElementById(id)) {
        ev.preventDefault();
        document.querySelectorAll(".decision").forEach(function (f) { f.classList.remove("active"); });
        var field = document.getElementById(id);
        field.closest("form").classList.add("active");
        field.focus();
      }
    });
    // Enter on the violation-type menu submits the confirm form (inputs submit natively).
    var sel = document.getElementById("confirm-type");
    if (sel) {
      sel.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && sel.value) { ev.preventDefault(); sel.form.requestSubmit(); }
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var page = document.body.dataset.page;
    if (page === "list") { listPage(); } else if (page === "item") { itemPage(); }
  });
})();
