// Check-in desk: a scan is taken at once and kept in a local queue with its time; the queue is
// sent in order, one request at a time, each with a timeout, and again later when the network
// comes back (the server ignores a card checked in twice). Live attendance, camera scanning.
// Progressive enhancement only: without this file the form posts and the page reloads.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  var form = document.getElementById("checkin-form");
  if (!desk || !form || !window.fetch || !window.AbortController) { return; }
  var input = form.querySelector("input[name=code]");
  var result = document.getElementById("desk-result");
  var recent = document.getElementById("recent");
  var badge = document.getElementById("desk-queue");
  var log = document.getElementById("scan-log");
  var auth = document.getElementById("desk-auth");
  var quorum = desk.querySelector(".quorum-panel");
  var text = function (name) { return desk.getAttribute("data-" + name) || ""; };
  var TIMEOUT_MS = 8000, RETRY_MS = 3000, PROBE_MS = 5000, LOG_SIZE = 30;
  // The queue outlives a reload or a crashed tab. A card's code stays only until the server
  // answered for it: the log keeps the outcome, never the code.
  var KEY = "civicvote.desk." + text("assembly");
  var scans = load();
  var sending = false, offline = !navigator.onLine, retryTimer = null;
  // "login" or "role" while the server refuses this clerk, "page" when it no longer knows the
  // form this page was opened with (its session is gone): scans are kept, none is sent.
  var stopped = null;
  var clock = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: text("timezone") || undefined });

  function load() {
    try { return JSON.parse(window.localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }
  function save() {
    try { window.localStorage.setItem(KEY, JSON.stringify(scans)); } catch (e) { /* private mode: memory only */ }
  }
  function waiting() { return scans.filter(function (s) { return s.state === "waiting"; }); }

  function timed(url, options) {
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    options.signal = controller.signal;
    options.credentials = "same-origin";
    return fetch(url, options).finally(function () { window.clearTimeout(timer); });
  }

  function setText(name, value) {
    var el = desk.querySelector("[data-live=" + name + "]");
    if (el) { el.textContent = String(value); }
  }

  function showQuorum(data) {
    if (typeof data.attendance === "number") { setText("attendance", data.attendance); }
    var q = data.quorum;
    if (!q) { return; }
    setText("present", q.present);
    setText("eligible", q.eligible);
    setText("required", q.required);
    var met = desk.querySelector("[data-live=met]");
    if (met) {
      met.textContent = met.getAttribute(q.met ? "data-yes" : "data-no");
      met.classList.toggle("is-met", !!q.met);
    }
  }

  function showRecent(rows) {
    if (!recent || !rows) { return; }
    recent.textContent = "";
    rows.forEach(function (row) {
      var li = document.createElement("li");
      var strong = document.createElement("strong");
      strong.textContent = row.address;
      li.appendChild(strong);
      li.appendChild(document.createTextNode(" " + (row.name || "") + " "));
      var time = document.createElement("span");
      time.className = "muted";
      time.textContent = row.time;
      li.appendChild(time);
      recent.appendChild(li);
    });
  }

  function showResult(kind, message, address) {
    result.className = "desk-result desk-result-" + kind;
    result.textContent = "";
    var p = document.createElement("p");
    p.textContent = message;
    result.appendChild(p);
    if (address) {
      var big = document.createElement("p");
      big.className = "desk-address";
      big.textContent = address;
      result.appendChild(big);
    }
  }

  // The badge, the list of scans and the stale mark on the figures.
  function render() {
    var count = waiting().length;
    var parts = [];
    if (offline) { parts.push(text("offline")); }
    if (count) { parts.push(text("waiting").replace("{n}", count)); }
    badge.textContent = parts.join(" · ");
    badge.hidden = !parts.length;
    badge.classList.toggle("is-offline", offline);
    auth.hidden = !stopped;
    if (stopped) { auth.querySelector("p").textContent = auth.getAttribute(stopped === "role" ? "data-role" : "data-login").replace("{n}", count); }
    if (quorum) { quorum.classList.toggle("is-stale", count > 0); }
    log.textContent = "";
    scans.slice().reverse().forEach(function (scan) {
      var li = document.createElement("li");
      li.className = "scan scan-" + scan.state;
      var time = document.createElement("span");
      time.className = "scan-time";
      time.textContent = clock.format(new Date(scan.at));
      li.appendChild(time);
      li.appendChild(document.createTextNode(" " + (scan.state === "waiting" ? text("waiting-one") : scan.message) + " "));
      if (scan.address) {
        var strong = document.createElement("strong");
        strong.textContent = scan.address;
        li.appendChild(strong);
      }
      log.appendChild(li);
    });
    log.hidden = !scans.length;
  }

  function settle(scan, state, data) {
    scan.state = state;
    scan.message = data.message || "";
    scan.address = data.address || "";
    delete scan.code;
    var done = scans.filter(function (s) { return s.state !== "waiting"; });
    if (done.length > LOG_SIZE) { scans.splice(scans.indexOf(done[0]), 1); }
    save();
    showResult(state === "ok" ? "ok" : state, scan.message, scan.address);
  }

  function retryLater() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(pump, RETRY_MS);
  }

  // The answer of a server that no longer takes this clerk's scans: the login ended (401, or a
  // redirect followed to the login page) or the clerk's role here was removed (403).
  function refusal(response) {
    if (response.status === 401 || response.redirected) { return "login"; }
    if (response.status === 403) { return "role"; }
    return null;
  }

  // While stopped, ask now and then (and when the tab comes back) whether the clerk may send
  // again, e.g. after logging in in another tab; the scans go as soon as the answer is yes.
  function probe() {
    if (!stopped || stopped === "page") { return; }  // only a new page has a good form
    timed(desk.getAttribute("data-attendance-url"), {
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok && !refusal(response)) { stopped = null; pump(); } else { probeLater(); }
    }).catch(probeLater);
  }
  function probeLater() {
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(probe, PROBE_MS);
  }

  // Sends the oldest waiting scan, then the next: in order, one at a time.
  function pump() {
    var scan = waiting()[0];
    render();
    if (stopped) { return; }
    if (sending || !scan) { if (!scan) { refresh(); } return; }
    sending = true;
    var body = new FormData(form);
    body.set("code", scan.code);
    body.set("scanned_at", scan.at);
    timed(form.action, {
      method: "POST", body: body, headers: { "Accept": "application/json" }
    }).then(function (response) {
      offline = false;
      stopped = refusal(response);
      if (stopped) { throw { http: response.status }; }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (data.ok) {
          settle(scan, data.already ? "warning" : "ok", data);
          showQuorum(data);
        } else if (response.status === 404 || response.status === 422) {
          settle(scan, "error", data);
        } else if (data.error === "csrf") {
          stopped = "page";
          throw { http: response.status };
        } else {  // rate limited or server trouble: keep it and try again
          if (data.message) { showResult("error", data.message); }
          throw { http: response.status };
        }
      });
    }).then(function () {
      sending = false;
      pump();
    }, function (error) {
      sending = false;
      offline = !(error && error.http);  // no answer at all (timeout, no network)
      render();
      if (stopped) { probeLater(); } else { retryLater(); }
    });
  }

  function refresh() {
    timed(desk.getAttribute("data-attendance-url"), {
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data) { showQuorum(data); showRecent(data.recent); }
    }).catch(function () { /* offline for a moment: the next poll retries */ });
  }

  function take(code) {
    if (!code) { return; }
    scans.push({ code: code, at: new Date().toISOString(), state: "waiting" });
    save();
    pump();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    // Cleared before any request: a scanner's next card starts in an empty field.
    var code = input.value.trim();
    input.value = "";
    input.focus();
    take(code);
  });
  window.addEventListener("online", function () { offline = false; pump(); });
  window.addEventListener("offline", function () { offline = true; render(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { probe(); } });
  window.setInterval(function () { if (!waiting().length) { refresh(); } }, 5000);
  pump();

  // Camera scanning where the browser has BarcodeDetector (Chrome on Android, for example).
  var camera = document.getElementById("camera");
  var start = document.getElementById("camera-start");
  var video = document.getElementById("camera-video");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !camera) { return; }
  camera.hidden = false;
  var detector = null;
  var stream = null;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.hidden = true;
  }

  function scan() {
    if (!stream) { return; }
    detector.detect(video).then(function (codes) {
      if (codes.length) {
        take(codes[0].rawValue);
        window.setTimeout(scan, 1500);  // a pause so one card is not read twice
      } else {
        window.requestAnimationFrame(scan);
      }
    }).catch(function () { window.setTimeout(scan, 300); });
  }

  start.addEventListener("click", function () {
    if (stream) { stop(); return; }
    try {
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (e) {
      camera.hidden = true;
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        return video.play();
      })
      .then(scan)
      .catch(function () { stop(); });
  });
})();
