// Passkeys (WebAuthn) for the sign-in page, the second-factor page and the
// profile. Progressive: the passkey controls stay hidden unless the browser
// has WebAuthn; everything else on those pages works without this file.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var buf = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      buf[i] = bin.charCodeAt(i);
    }
    return buf.buffer;
  }

  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          throw new Error(data.error || res.statusText);
        }
        return data;
      });
    });
  }

  // The server's options use base64url strings where WebAuthn wants bytes.
  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user.id = b64urlToBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return { publicKey: pk };
  }

  function attestationJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bufToB64url(r.clientDataJSON),
        attestationObject: bufToB64url(r.attestationObject)
      }
    };
    if (r.getTransports) {
      out.response.transports = r.getTransports();
    }
    if (cred.getClientExtensionResults) {
      out.clientExtensionResults = cred.getClientExtensionResults();
    }
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  function assertionJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        clientDataJSON: bufToB64url(r.clientDataJSON),
        authenticatorData: bufToB64url(r.authenticatorData),
        signature: bufToB64url(r.signature),
        userHandle: r.userHandle ? bufToB64url(r.userHandle) : null
      }
    };
    if (cred.getClientExtensionResults) {
      out.clientExtensionResults = cred.getClientExtensionResults();
    }
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    return out;
  }

  // go loads url; one that differs from this page only by its fragment
  // would only scroll, so the page is reloaded to show the change.
  function go(url) {
    var to = new URL(url, window.location.href);
    if (to.pathname === window.location.pathname && to.search === window.location.search) {
      window.location.hash = to.hash;
      window.location.reload();
      return;
    }
    window.location.assign(to.href);
  }

  function status(root, msg) {
    var el = root.querySelector(".passkey-status") || root.parentNode.querySelector(".passkey-status");
    if (el) {
      el.textContent = msg;
    }
  }

  function login(btn) {
    var csrf = btn.getAttribute("data-csrf");
    var body = { second: btn.hasAttribute("data-second"), next: btn.getAttribute("data-next") || "" };
    var remember = document.getElementById("login-remember");
    body.remember = !!(remember && remember.checked);
    btn.disabled = true;
    status(btn.parentNode, "");
    post("/webauthn/login/begin", csrf, body)
      .then(function (opts) { return navigator.credentials.get(requestOptions(opts)); })
      .then(function (cred) {
        var data = assertionJSON(cred);
        return post("/webauthn/login/finish", csrf, data);
      })
      .then(function (res) { window.location.assign(res.redirect || "/dashboard"); })
      .catch(function () {
        btn.disabled = false;
        status(btn.parentNode, btn.getAttribute("data-error"));
      });
  }

  function register(form) {
    var csrf = form.getAttribute("data-csrf");
    var name = form.querySelector("input[name=name]").value;
    var btn = form.querySelector("button");
    btn.disabled = true;
    status(form, "");
    post("/webauthn/register/begin", csrf, { name: name })
      .then(function (opts) { return navigator.credentials.create(creationOptions(opts)); })
      .then(function (cred) { return post("/webauthn/register/finish", csrf, attestationJSON(cred)); })
      .then(function (res) { go(res.redirect || "/meu-perfil#seguranca"); })
      .catch(function () {
        btn.disabled = false;
        status(form, form.getAttribute("data-error"));
      });
  }

  document.querySelectorAll(".passkey-only").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll("[data-passkey=login]").forEach(function (btn) {
    btn.addEventListener("click", function () { login(btn); });
  });
  document.querySelectorAll("form[data-passkey=register]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      register(form);
    });
  });
})();
