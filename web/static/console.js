// tillit console. Plain JavaScript, no build step, no dependencies. The
// pages work without it except where a browser API is the point (passkeys)
// or a secret must stay out of URLs (the token in an invitation's fragment).
// Texts come from the page (data- attributes) in the page's language.
"use strict";

(function () {
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  // Errors: move focus to the summary, so that it is read out first.
  function focusErrors() {
    var summary = $("[data-focus]");
    if (summary) summary.focus();
  }

  // Times: the server writes UTC; show them in the person's own zone.
  function localTimes() {
    var locales = { nb: "nb-NO", sv: "sv-SE", en: "en-GB" };
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(locales[document.documentElement.lang] || "en-GB",
        { dateStyle: "medium", timeStyle: "short" });
    } catch (e) { return; }
    $$("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) el.textContent = fmt.format(d);
    });
  }

  // One-time tokens arrive in the fragment (/invite#<token>), which is never
  // sent to a server. Move it into the form, keep it for this tab only (so
  // that switching language keeps it), and take it out of the address bar.
  function fragmentTokens() {
    var inputs = $$("[data-fragment-token]");
    if (inputs.length === 0) {
      for (var i = sessionStorage.length - 1; i >= 0; i--) {
        var k = sessionStorage.key(i);
        if (k && k.indexOf("tillit.token.") === 0) sessionStorage.removeItem(k);
      }
      return;
    }
    var hash = location.hash.slice(1);
    if (hash) history.replaceState(null, "", location.pathname + location.search);
    inputs.forEach(function (input) {
      var key = "tillit.token." + input.dataset.fragmentToken;
      if (hash) sessionStorage.setItem(key, hash);
      if (!input.value) input.value = sessionStorage.getItem(key) || "";
    });
  }

  // Recovery codes: print and copy.
  function recoveryCodes() {
    $$("[data-print]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () { window.print(); });
    });
    $$("[data-copy]").forEach(function (btn) {
      if (!navigator.clipboard) return;
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var list = document.getElementById(btn.dataset.copy);
        var text = $$("li", list).map(function (li) { return li.textContent.trim(); }).join("\n");
        var status = $(".copy-status");
        navigator.clipboard.writeText(text).then(function () {
          if (status) status.textContent = btn.dataset.copied;
        });
      });
    });
  }

  // Idle sign-out. The server signs a session out after the tenant's idle
  // time; the page warns before (2 minutes, or half the time if that is
  // shorter), counts down, lets the person stay, and at the end goes to the
  // sign-in page. The server enforces the timeout whatever the page does.
  function idleWarning() {
    var body = document.body;
    var box = $("#idle-warning");
    if (!box || body.dataset.idleSeconds === undefined) return;
    var total = parseInt(body.dataset.idleSeconds, 10);
    var deadline = Date.now() + total * 1000;
    var warnBefore = Math.min(120, Math.floor(total / 2)) * 1000;
    var countdown = $("#idle-countdown"), live = $("#idle-live"), stay = $("#idle-stay");
    var lastSpoken = -1, returnFocus = null;

    function mmss(ms) {
      var s = Math.max(0, Math.ceil(ms / 1000));
      return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    }
    function say(ms) {
      live.textContent = box.dataset.countdown.replace("{time}", mmss(ms));
    }
    function tick() {
      var left = deadline - Date.now();
      if (left <= 0) {
        clearInterval(timer);
        location.assign(body.dataset.idleUrl);
        return;
      }
      if (left > warnBefore) {
        box.hidden = true;
        return;
      }
      countdown.textContent = mmss(left);
      var s = Math.ceil(left / 1000);
      if (box.hidden) {
        box.hidden = false;
        returnFocus = document.activeElement;
        stay.focus();
        say(left);
        lastSpoken = s;
      } else if (s !== lastSpoken && (s % 30 === 0 || s === 10)) {
        say(left);
        lastSpoken = s;
      }
    }
    stay.addEventListener("click", function () {
      stay.disabled = true;
      fetch("/keepalive", { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (res) {
          var json = (res.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (!res.ok || res.redirected || !json) throw new Error("keepalive " + res.status);
          return res.json();
        })
        .then(function (data) {
          deadline = Date.now() + data.idle_seconds * 1000;
          box.hidden = true;
          live.textContent = "";
          if (returnFocus && returnFocus.focus) returnFocus.focus();
        })
        .catch(function () { live.textContent = box.dataset.failed; })
        .then(function () { stay.disabled = false; });
    });
    var timer = setInterval(tick, 500);
    tick();
  }

  // Passkeys (WebAuthn): registration when signed in, and sign-in as a
  // second factor, against the API's begin/finish endpoints.
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    var bin = atob(s + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    o.challenge = b64urlToBuf(o.challenge);
    o.user.id = b64urlToBuf(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return o;
  }
  function requestOptions(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    o.challenge = b64urlToBuf(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return o;
  }
  function credentialJSON(c) {
    if (typeof c.toJSON === "function") return c.toJSON();
    var r = c.response, out = { id: c.id, rawId: bufToB64url(c.rawId), type: c.type,
      clientExtensionResults: c.getClientExtensionResults(), response: { clientDataJSON: bufToB64url(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return out;
  }
  function postJSON(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) })
      .then(function (res) {
        if (!res.ok) throw new Error(url + " " + res.status);
        return res.status === 204 ? {} : res.json();
      });
  }
  function passkeys() {
    $$("[data-passkey]").forEach(function (el) {
      var btn = $("button", el), status = $(".passkey-status", el), login = el.dataset.passkey === "login";
      if (!window.PublicKeyCredential || !navigator.credentials) {
        status.textContent = el.dataset.unsupported;
        return;
      }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        btn.disabled = true;
        status.className = "passkey-status";
        status.textContent = el.dataset.working;
        postJSON(el.dataset.begin, {})
          .then(function (begin) {
            var opts = begin.publicKey || begin;
            return login ? navigator.credentials.get({ publicKey: requestOptions(opts) })
              : navigator.credentials.create({ publicKey: creationOptions(opts) });
          })
          .then(function (cred) { return postJSON(el.dataset.finish, credentialJSON(cred)); })
          .then(function () {
            if (login) location.assign(el.dataset.next);
            else status.textContent = el.dataset.done;
          })
          .catch(function () {
            status.className = "passkey-status error";
            status.textContent = el.dataset.failed;
          })
          .then(function () { btn.disabled = false; });
      });
    });
  }

  function start() {
    fragmentTokens();
    localTimes();
    recoveryCodes();
    passkeys();
    idleWarning();
    focusErrors();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
