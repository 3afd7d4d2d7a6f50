// JC Service Desk: small progressive enhancements. Every flow works
// without this file; it only saves round trips.
"use strict";

(function () {
  // The CSRF token of this page, for fetch() calls (X-CSRF-Token header).
  function csrfToken() {
    var input = document.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  // fetch that sends the CSRF header and same-origin cookies; later
  // scripts (passkeys, live updates) use it.
  window.sdFetch = function (url, options) {
    options = options || {};
    var headers = new Headers(options.headers || {});
    if (!headers.has("X-CSRF-Token")) headers.set("X-CSRF-Token", csrfToken());
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    options.headers = headers;
    options.credentials = "same-origin";
    return fetch(url, options);
  };

  // Theme toggle: set the cookie and the attribute at once instead of
  // posting the form and reloading.
  function setTheme(theme) {
    var root = document.documentElement;
    if (theme === "light" || theme === "dark") {
      root.setAttribute("data-theme", theme);
      document.cookie = "theme=" + theme + "; path=/; max-age=31536000; samesite=lax" +
        (location.protocol === "https:" ? "; secure" : "");
    } else {
      root.removeAttribute("data-theme");
      document.cookie = "theme=; path=/; max-age=0; samesite=lax";
    }
    document.querySelectorAll("[data-theme-toggle] button[name=theme]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.value === (theme || "system")));
    });
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-theme-toggle] button[name=theme]");
    if (btn) {
      e.preventDefault();
      setTheme(btn.value === "system" ? "" : btn.value);
      return;
    }
    var close = e.target.closest("[data-dismiss]");
    if (close) {
      var box = close.closest("[data-dismissible]");
      if (box) box.remove();
    }
  });

  // Close the user menu with Escape or a click outside it.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.usermenu[open]").forEach(function (d) {
      d.removeAttribute("open");
      d.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });
})();
