// JC Service Desk: live updates. One EventSource per tab on /notify/stream
// with the page's topics (<body data-topics>), or polling /notify/poll
// when EventSource fails or a proxy holds the stream back; the bell, a
// toast, optional desktop notifications, the ticket page's conversation,
// the chat, presence and the queue's "new tickets" bar. Every text from
// the server is inserted with textContent, never as HTML. Every page
// works without this file.
"use strict";

(function () {
  var body = document.body;
  if (!body || !body.hasAttribute("data-user")) return;

  var me = Number(body.getAttribute("data-user"));
  var topics = (body.getAttribute("data-topics") || "").split(/[\s,]+/).filter(Boolean);
  var stringsEl = document.querySelector("[data-live-strings]");

  // Timings (ms).
  var PROBE_AFTER = 15000;   // no message this long after open: ask the poll whether we miss events
  var POLL_EVERY = 5000;     // between polls
  var RETRY_SSE = 60000;     // while polling, try the stream again this often
  var BACKOFF_MIN = 1000, BACKOFF_MAX = 30000;
  var BEAT_EVERY = 20000;    // presence heartbeat
  var TYPING_SHOWN = 5000;

  // str returns a text of the page's live strings, with %s or %d filled.
  function str(name, arg) {
    var s = stringsEl ? stringsEl.getAttribute("data-" + name) || "" : "";
    return arg === undefined ? s : s.replace(/%[sd]/, String(arg));
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // appendLinked puts text into parent with its http(s) addresses as
  // links: text nodes and created <a> elements only.
  var linkRe = /\bhttps?:\/\/[^\s<>"]+/gi;
  function appendLinked(parent, text) {
    var last = 0, m;
    linkRe.lastIndex = 0;
    while ((m = linkRe.exec(text)) !== null) {
      var url = m[0].replace(/[.,;:!?)\]}'"]+$/, "");
      var start = m.index;
      if (url.length <= 8) continue;
      var href;
      try { href = new URL(url); } catch (e) { continue; }
      if (href.protocol !== "http:" && href.protocol !== "https:") continue;
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      var a = el("a", "", url);
      a.href = href.href;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      parent.appendChild(a);
      last = start + url.length;
      linkRe.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function jitter(ms) { return Math.round(ms * (0.75 + Math.random() * 0.5)); }

  // timeAt is a <time> for an event's moment, in the page's language and
  // the person's zone (as the server writes them).
  var lang = document.documentElement.lang || undefined;
  var zone = body.getAttribute("data-tz") || undefined;
  function timeAt(at) {
    var d = at ? new Date(at) : new Date();
    if (isNaN(d.getTime())) d = new Date();
    var text;
    try {
      text = d.toLocaleString(lang, { timeZone: zone, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      text = d.toLocaleString();
    }
    var t = el("time", "muted small", text.replace(",", ""));
    t.dateTime = d.toISOString();
    return t;
  }

  // --- the connection ------------------------------------------------------

  // The log's id when the page was made (the bell says it): the first
  // stream resumes there, so nothing that happened meanwhile is missed.
  var bell = document.getElementById("bell");
  var lastID = Number(bell && bell.getAttribute("data-last-event") || 0);
  var mode = "";          // "sse" or "poll"
  var es = null;
  var backoff = BACKOFF_MIN;
  var sseFailures = 0;
  var flowing = false;    // the current stream delivered something
  var timers = {};

  function clear(name) {
    if (timers[name]) { clearTimeout(timers[name]); timers[name] = 0; }
  }
  function later(name, ms, fn) { clear(name); timers[name] = setTimeout(fn, ms); }

  function streamURL() {
    var u = "/notify/stream?topics=" + encodeURIComponent(topics.join(","));
    if (lastID > 0) u += "&last=" + lastID;
    return u;
  }
  function pollURL() {
    var u = "/notify/poll?topics=" + encodeURIComponent(topics.join(","));
    if (lastID > 0) u += "&after=" + lastID;
    return u;
  }

  var names = ["notification", "ticket", "comment", "presence", "typing", "resync"];

  function startSSE() {
    clear("poll"); clear("retry");
    if (!window.EventSource) { startPoll(); return; }
    stopSSE();
    mode = "sse";
    flowing = false;
    var src = new EventSource(streamURL(), { withCredentials: true });
    es = src;
    names.forEach(function (name) {
      src.addEventListener(name, function (ev) {
        if (es !== src) return;
        flowing = true;
        backoff = BACKOFF_MIN;
        clear("probe");
        var data;
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        if (ev.lastEventId) data.id = Number(ev.lastEventId);
        handle(name, data);
      });
    });
    src.onopen = function () {
      if (es !== src) return;
      body.setAttribute("data-live", "sse"); // tests and curious people: how the page is connected
      // An open stream is one that works: a proxy closing idle streams
      // is not a reason to poll (the backoff resets on a message only).
      sseFailures = 0;
      later("probe", PROBE_AFTER, probe);
    };
    src.onerror = function () {
      if (es !== src) return;
      // We reconnect ourselves: with backoff, and from our own lastID.
      body.setAttribute("data-live", "down");
      stopSSE();
      sseFailures++;
      if (sseFailures >= 2) { startPoll(); return; }
      later("reconnect", jitter(backoff), startSSE);
      backoff = Math.min(backoff * 2, BACKOFF_MAX);
    };
  }

  function stopSSE() {
    clear("probe"); clear("reconnect");
    if (es) { es.close(); es = null; }
  }

  // probe: the stream has been quiet since it opened. If the poll has
  // events we have not received, a proxy is holding the stream back.
  function probe() {
    if (mode !== "sse" || flowing) return;
    var before = lastID;
    fetchPoll().then(function (ans) {
      if (!ans || mode !== "sse" || flowing) return;
      if (ans.resync) { handle("resync", {}); return; }
      var newest = 0;
      (ans.events || []).forEach(function (e) { if (e.id > newest) newest = e.id; });
      if (newest <= before) { later("probe", PROBE_AFTER * 2, probe); return; }
      // Give the stream a moment to deliver what the poll saw.
      later("probe", 3000, function () {
        if (mode === "sse" && !flowing && lastID < newest) startPoll();
      });
    });
  }

  function fetchPoll() {
    return fetch(pollURL(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  var polling = false;
  function startPoll() {
    stopSSE();
    mode = "poll";
    clear("poll");
    pollOnce();
    if (window.EventSource) later("retry", jitter(RETRY_SSE), tryStreamAgain);
  }

  function pollOnce() {
    if (mode !== "poll" || polling) return;
    polling = true;
    fetchPoll().then(function (ans) {
      polling = false;
      if (mode !== "poll") return;
      if (!ans) {
        later("poll", jitter(backoff), pollOnce);
        backoff = Math.min(backoff * 2, BACKOFF_MAX);
        return;
      }
      backoff = BACKOFF_MIN;
      body.setAttribute("data-live", "poll");
      if (ans.resync) {
        handle("resync", {});
      } else {
        (ans.events || []).forEach(function (e) { handle(e.event, e); });
      }
      if (typeof ans.unread === "number") setUnread(ans.unread);
      if (ans.last > lastID) lastID = ans.last;
      later("poll", ans.more ? 0 : jitter(POLL_EVERY), pollOnce);
    });
  }

  // pollSoon: after our own change, show it without waiting.
  function pollSoon() { if (mode === "poll") later("poll", 300, pollOnce); }

  function tryStreamAgain() {
    if (mode !== "poll") return;
    sseFailures = 1; // one more failure and we are back to polling
    startSSE();
  }

  // --- events --------------------------------------------------------------

  function handle(name, data) {
    if (!data) return;
    if (data.id) {
      if (data.id <= lastID && name !== "presence" && name !== "typing") return; // seen already
      lastID = data.id;
    }
    switch (name) {
      case "notification": onNotification(data); break;
      case "ticket": onTicket(data); break;
      case "comment": onComment(data); break;
      case "presence": onPresence(data); break;
      case "typing": onTyping(data); break;
      case "resync": onResync(); break;
    }
  }

  function onResync() {
    // Too much was missed to patch the page: reload its lists, unless the
    // person is writing something.
    var busy = Array.prototype.some.call(document.querySelectorAll("textarea"), function (t) { return t.value.trim() !== ""; });
    if (!busy) { location.reload(); return; }
    showBar(str("queue-changed", "?"));
  }

  // The bell (partials/bell.html of the notification centre).
  function setUnread(n) {
    if (!bell) return;
    var c = document.getElementById("bell-count");
    if (c) {
      c.textContent = n > 99 ? "99+" : String(n);
      c.hidden = n <= 0;
    }
    var said = bell.querySelector("summary .visually-hidden");
    if (said) said.textContent = said.textContent.replace(/\d+/, String(n));
    bell.setAttribute("data-unread", String(n));
  }

  function onNotification(d) {
    var n = d.notification || {};
    if (typeof n.unread === "number") setUnread(n.unread);
    var list = document.getElementById("bell-list");
    if (list && n.text && !list.querySelector('li[data-id="' + Number(n.id) + '"]')) {
      var li = el("li", "unread");
      li.setAttribute("data-id", String(Number(n.id)));
      var a = el("a", "", n.text);
      a.href = localLink(n.link) || "/notify";
      li.appendChild(a);
      li.appendChild(timeAt());
      list.insertBefore(li, list.firstChild);
      var empty = list.querySelector(".bell-empty");
      if (empty) empty.remove();
    }
    if (n.text) {
      toast(n.text, n.link);
      desktop(n.text, n.link);
    }
  }

  // localLink is link when it is a path of this site, else "".
  function localLink(link) {
    return typeof link === "string" && /^\/(?![\/\\])/.test(link) ? link : "";
  }

  function toast(text, link) {
    var box = document.querySelector("[data-toasts]");
    if (!box) return;
    var t = el("div", "live-toast");
    if (localLink(link)) {
      var a = el("a", "", text);
      a.href = localLink(link);
      t.appendChild(a);
    } else {
      t.textContent = text;
    }
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 6000);
  }

  // Desktop notifications: only after the person turned them on here.
  var desktopKey = "sd-desktop-notify";
  function desktopOn() {
    return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(desktopKey) === "1";
  }
  function desktop(text, link) {
    if (!desktopOn() || !document.hidden) return;
    try {
      var n = new Notification(document.title.split(" · ").pop() || "", { body: text, tag: "sd-" + (link || text) });
      n.onclick = function () { window.focus(); if (localLink(link)) location.href = localLink(link); };
    } catch (e) { /* some browsers allow them only from a service worker */ }
  }
  (function desktopButton() {
    var btn = document.querySelector("[data-desktop-notify]");
    if (!btn || !("Notification" in window) || Notification.permission === "denied" || desktopOn()) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      Notification.requestPermission().then(function (p) {
        if (p !== "granted") { btn.hidden = true; return; }
        localStorage.setItem(desktopKey, "1");
        btn.hidden = true;
        toast(str("desktop-on"));
      });
    });
  })();

  function topicOf(d) { return d.topic || (d.ticket ? "ticket:" + d.ticket.id : ""); }
  function onThisTicket(d) {
    return d.ticket && (topics.indexOf("ticket:" + d.ticket.id) >= 0 || topics.indexOf("chat:" + d.ticket.id) >= 0);
  }

  function statusText(s) { return str("status-" + s) || s; }

  function onTicket(d) {
    queueChanged(d);
    if (!onThisTicket(d) || !d.ticket.status) return;
    var inList = '.chat-list a[href="/chat?ticket=' + Number(d.ticket.number) + '"] .badge';
    document.querySelectorAll("[data-live-status], .chat-head .badge[class*=status-], " + inList).forEach(function (b) {
      b.className = b.className.replace(/\bstatus-[a-z]+\b/, "status-" + d.ticket.status);
      b.textContent = statusText(d.ticket.status);
    });
    var conv = document.querySelector("[data-live-ticket]") || document.querySelector("[data-chat-log]");
    if (conv && d.kind && d.kind !== "created" && d.kind !== "commented") {
      var li = el("li", "msg-event muted small", str("status", statusText(d.ticket.status)));
      conv.appendChild(li);
    }
  }

  function onComment(d) {
    queueChanged(d);
    var c = d.comment;
    if (!c || !onThisTicket(d)) return;
    var number = d.ticket.number;
    var conv = document.querySelector("[data-live-ticket]");
    if (conv && !document.getElementById("c" + c.id)) {
      var li = el("li", "msg" + (c.internal ? " msg-internal" : ""));
      li.id = "c" + c.id;
      var head = el("header", "msg-head");
      head.appendChild(el("span", "avatar", (c.author || "?").charAt(0).toUpperCase())).setAttribute("aria-hidden", "true");
      head.appendChild(el("strong", "", c.author || str("someone")));
      if (c.internal) head.appendChild(el("span", "badge badge-warning", str("internal")));
      head.appendChild(timeAt(d.at));
      li.appendChild(head);
      li.appendChild(el("div", "msg-body", c.text || ""));
      li.appendChild(files(number, c.attachments));
      conv.appendChild(li);
      if (c.author && !mine[c.id]) toast(str("new-comment", c.author));
      // The message is on the page now: a reply written from here has
      // seen it (the collision check compares with the last public one).
      if (!c.internal) {
        document.querySelectorAll('input[name="seen"]').forEach(function (s) {
          if (Number(s.value) < c.id) s.value = String(c.id);
        });
      }
    }
    var log = document.querySelector("[data-chat-log]");
    if (log && !document.getElementById("m" + c.id)) {
      var m = el("li", "chat-msg" + (mine[c.id] ? " chat-mine" : "") + (c.internal ? " chat-internal" : ""));
      m.id = "m" + c.id;
      var meta = el("p", "chat-meta");
      meta.appendChild(el("strong", "", c.author || str("someone")));
      if (c.internal) { meta.appendChild(document.createTextNode(" ")); meta.appendChild(el("span", "badge badge-warning", str("internal"))); }
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(timeAt(d.at));
      m.appendChild(meta);
      var text = el("p", "chat-text");
      appendLinked(text, c.text || "");
      m.appendChild(text);
      m.appendChild(files(number, c.attachments));
      log.appendChild(m);
      m.scrollIntoView({ block: "nearest" });
      typingShown(null);
    }
  }

  function files(number, list) {
    var frag = document.createDocumentFragment();
    if (!list || !list.length) return frag;
    var ul = el("ul", "files");
    ul.setAttribute("aria-label", str("files"));
    list.forEach(function (f) {
      var li = el("li");
      var a = el("a", "", f.name);
      a.href = "/tickets/" + encodeURIComponent(number) + "/attachments/" + encodeURIComponent(f.id);
      li.appendChild(a);
      ul.appendChild(li);
    });
    frag.appendChild(ul);
    return frag;
  }

  // The queue: rows are not patched; a bar counts what is new or changed
  // and reloads, and the rows of changed tickets are marked.
  var queueNew = 0, queueChangedN = 0, queueSeen = {};
  function queueChanged(d) {
    if (topics.indexOf("queue") < 0 || !d.ticket) return;
    var row = document.querySelector('tr[data-ticket="' + Number(d.ticket.id) + '"]');
    if (row) {
      row.classList.add("live-changed");
      if (!queueSeen[d.ticket.id]) { queueSeen[d.ticket.id] = 1; queueChangedN++; }
    } else if (d.kind === "created" && !queueSeen[d.ticket.id]) {
      queueSeen[d.ticket.id] = 1;
      queueNew++;
    } else {
      return;
    }
    var parts = [];
    if (queueNew) parts.push(str("queue-new", queueNew));
    if (queueChangedN) parts.push(str("queue-changed", queueChangedN));
    showBar(parts.join(" · "));
  }

  function showBar(text) {
    var bar = document.querySelector("[data-live-bar]");
    if (!bar) return;
    bar.textContent = "";
    bar.appendChild(el("span", "", text + " "));
    var btn = el("button", "btn btn-outline", str("reload"));
    btn.type = "button";
    btn.addEventListener("click", function () { location.reload(); });
    bar.appendChild(btn);
    bar.hidden = false;
  }

  // --- presence and typing -------------------------------------------------

  var presenceEl = document.querySelector("[data-presence]");
  var tab = Math.random().toString(36).slice(2, 12);
  var replying = false;

  function onPresence(d) {
    if (!presenceEl || topics.indexOf(d.topic) < 0 && topics.indexOf(String(d.topic).replace("ticket:", "chat:")) < 0) return;
    var users = (d.presence && d.presence.users || []).filter(function (u) { return u.id !== me; });
    presenceEl.textContent = "";
    users.forEach(function (u, i) {
      if (i) presenceEl.appendChild(document.createTextNode(" · "));
      var s = el("span", "presence-user presence-" + (u.state === "replying" ? "replying" : "viewing"),
        str(u.state === "replying" ? "replying" : "viewing", u.name));
      presenceEl.appendChild(s);
    });
    presenceEl.hidden = users.length === 0;
  }

  function beat(state, keepalive) {
    if (!presenceEl) return;
    var form = new URLSearchParams();
    form.set("ticket", presenceEl.getAttribute("data-presence"));
    form.set("tab", tab);
    form.set("state", state);
    var opts = { method: "POST", body: form, keepalive: !!keepalive };
    var f = window.sdFetch ? window.sdFetch("/notify/presence", opts) : null;
    if (!f) return;
    f.then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) onPresence(d); })
      .catch(function () {});
  }

  if (presenceEl) {
    var heartbeat = function () {
      if (!document.hidden) beat(replying ? "replying" : "viewing");
      later("beat", BEAT_EVERY, heartbeat);
    };
    heartbeat();
    document.addEventListener("visibilitychange", function () { if (!document.hidden) beat(replying ? "replying" : "viewing"); });
    window.addEventListener("pagehide", function () { beat("left", true); });
    // Replying: the reply box has text in it.
    var lastTyping = 0;
    document.addEventListener("input", function (e) {
      var box = e.target.closest("textarea");
      if (!box || box.closest("[data-chat-new]")) return;
      var now = Date.now();
      var chatBox = box.closest("[data-chat-form]");
      var internal = document.getElementById("chat-internal");
      if (chatBox && !(internal && internal.checked) && now - lastTyping > 3000) {
        lastTyping = now;
        beat("typing"); // says replying too
        replying = true;
        return;
      }
      var r = box.value.trim() !== "";
      if (r !== replying) { replying = r; beat(r ? "replying" : "viewing"); }
    });
  }

  var typingEl = document.querySelector("[data-typing]");
  function typingShown(name) {
    if (!typingEl) return;
    typingEl.textContent = name ? str("typing", name) : "";
    if (name) later("typing", TYPING_SHOWN, function () { typingShown(null); });
  }
  function onTyping(d) {
    if (!d.typing || d.typing.id === me || topics.indexOf(d.topic) < 0) return;
    typingShown(d.typing.user);
  }

  // --- chat sends without a reload -----------------------------------------

  var mine = {};
  var chatForm = document.querySelector("[data-chat-form]");
  if (chatForm && window.sdFetch && window.FormData) {
    chatForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = chatForm.querySelector("textarea");
      var btn = chatForm.querySelector("button[type=submit]");
      btn.disabled = true;
      window.sdFetch("/chat/send", { method: "POST", body: new URLSearchParams(new FormData(chatForm)) })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        })
        .then(function (d) {
          if (d.comment) {
            mine[d.comment] = true;
            var shown = document.getElementById("m" + d.comment); // the stream may have been first
            if (shown) shown.classList.add("chat-mine");
          }
          text.value = "";
          replying = false;
          beat("viewing");
          pollSoon();
        })
        .catch(function () { chatForm.submit(); }) // the form's own post says why
        .then(function () { btn.disabled = false; text.focus(); });
    });
  }

  // --- start ---------------------------------------------------------------

  // Topics the server refuses (a ticket no longer visible) would fail
  // every reconnect; the page then has only the user's notifications.
  if (window.EventSource) startSSE(); else startPoll();
  window.addEventListener("pagehide", function () { stopSSE(); });
})();
