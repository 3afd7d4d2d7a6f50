// Technicians' pages (tkstaff): keyboard shortcuts and draft autosave.
// Everything works without this file except the shortcuts.
"use strict";

(function () {
  if (window.sdStaffLoaded) return; // the partial may be included twice
  window.sdStaffLoaded = true;

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // j/k move through the rows of a list, o opens the current one, / goes
  // to the search box, ? shows the list of shortcuts.
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }
  function select(i) {
    var rs = rows();
    if (!rs.length) return;
    current = Math.max(0, Math.min(rs.length - 1, i));
    rs.forEach(function (r, j) { r.classList.toggle("is-current", j === current); });
    var link = rs[current].querySelector("[data-open]");
    if (link) link.focus({ preventScroll: true });
    rs[current].scrollIntoView({ block: "nearest" });
  }
  function help(show) {
    var h = document.querySelector("[data-shortcut-help]");
    if (!h) return;
    h.hidden = show === undefined ? !h.hidden : !show;
    if (!h.hidden) {
      var b = h.querySelector("[data-shortcut-close]");
      if (b) b.focus();
    }
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) {
      if (e.key === "Escape" && typing(e.target) && e.target.matches("[data-search-input]")) e.target.blur();
      return;
    }
    switch (e.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "o": {
        var rs = rows();
        var link = current >= 0 && rs[current] ? rs[current].querySelector("[data-open]") : null;
        if (link) location.href = link.href;
        break;
      }
      case "/": {
        var s = document.querySelector("[data-search-input]");
        if (s) { e.preventDefault(); s.focus(); s.select(); }
        break;
      }
      case "?": help(); break;
      case "Escape": help(false); break;
      default: return;
    }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-shortcut-close]")) help(false);
  });

  // Draft autosave: post the reply box a few seconds after the last
  // change, with the page's CSRF token in X-CSRF-Token.
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var body = form.querySelector("[data-draft-body]");
    var status = form.querySelector("[data-draft-status]");
    var token = form.querySelector('input[name="csrf_token"]');
    if (!body || !token) return;
    var timer = null, last = body.value;
    function save() {
      timer = null;
      if (body.value === last) return;
      var data = new URLSearchParams();
      data.set("body", body.value);
      var kind = form.querySelector('input[name="internal"]:checked');
      data.set("internal", kind ? kind.value : "0");
      var sent = body.value;
      fetch(form.getAttribute("data-draft"), {
        method: "POST", credentials: "same-origin", body: data,
        headers: { "X-CSRF-Token": token.value, "X-Requested-With": "fetch" }
      }).then(function (res) {
        if (res.ok) {
          last = sent;
          if (status) status.textContent = status.getAttribute("data-saved") || "✓";
        }
      }).catch(function () { /* offline: the next change tries again */ });
    }
    function later() { if (!timer) timer = setTimeout(save, 4000); }
    body.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function () { if (timer) clearTimeout(timer); timer = null; });
  });
})();
