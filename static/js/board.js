// Live board: polls a cheap endpoint with If-None-Match; 304 while nothing changed.
// Each poll times out after 5 s; the board reconnects by itself. It shows the server's time of
// the last update and how long ago it was; when updates stop, the numbers dim and a large banner
// says they may be out of date (to be read from the back of the hall).
(function () {
  "use strict";
  var shell = document.getElementById("board");
  var panels = document.getElementById("board-panels");
  if (!shell || !panels || !window.fetch || !window.AbortController) { return; }
  var url = shell.getAttribute("data-live-url");
  var etag = null;
  // The newest snapshot shown so far: another worker may still hold an older one for a moment.
  var shownReadAt = Number(shell.getAttribute("data-read-at")) || 0;
  var POLL_MS = 1000, TIMEOUT_MS = 5000, STALE_AFTER_MS = 5000, ROTATE_MS = 15000;
  var updated = document.getElementById("board-updated");
  var banner = document.getElementById("board-stale");
  var bannerAge = document.getElementById("board-stale-age");
  var text = function (name) { return shell.getAttribute("data-" + name) || ""; };
  // Times are the server's, in the community's time zone: the TV's clock and zone may be wrong.
  // offset turns this TV's clock into the server's (from each answer's Date header).
  var offset = Number(shell.getAttribute("data-server-now")) - Date.now() || 0;
  var lastOk = Date.now();
  var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: text("timezone") || undefined });

  function markOnline(response) {
    lastOk = Date.now();
    var date = Date.parse(response.headers.get("Date") || "");
    if (date) { offset = date - lastOk; }
    tick();
  }

  // Each second: "updated HH:MM:SS · N s ago", and the stale state once updates stop.
  function tick() {
    var age = Math.max(0, Math.round((Date.now() - lastOk) / 1000));
    var when = timeFormat.format(new Date(lastOk + offset));
    var ago = text("ago-text").replace("{n}", age);
    var stale = Date.now() - lastOk > STALE_AFTER_MS;
    document.body.classList.toggle("offline", stale);
    updated.textContent = stale ? text("offline-text")
      : text("updated-text").replace("{time}", when) + " · " + ago;
    if (banner) {
      banner.hidden = !stale;
      bannerAge.textContent = text("updated-text").replace("{time}", when) + " · " + ago;
    }
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    var controller = new AbortController();
    var timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(url, { headers: headers, cache: "no-store", signal: controller.signal }).then(function (response) {
      if (response.status === 304) { markOnline(response); return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      var tag = response.headers.get("ETag");
      return response.json().then(function (body) {
        if (body.read_at < shownReadAt) { markOnline(response); return null; }
        etag = tag;
        shownReadAt = body.read_at;
        return [body, response];
      });
    }).then(function (answer) {
      if (answer) {
        var body = answer[0];
        // Server-rendered, autoescaped markup from our own endpoint.
        panels.innerHTML = body.html;
        panels.setAttribute("data-panel", body.panel);
        markOnline(answer[1]);
        setupRotation();
      }
    }).catch(function () { /* stale after STALE_AFTER_MS: tick() says so */ }).then(function () {
      window.clearTimeout(timer);
      window.setTimeout(poll, POLL_MS);
    });
  }

  // Rotation: when the presenter leaves the board on "auto", the main panels (the explanation
  // after the close, pages of the result list, funded projects) take turns beside attendance:
  // a TV cannot scroll, so each gets the whole space (static/css/board.css).
  var slides = [], current = 0, timer = null;
  function setupRotation() {
    var auto = panels.getAttribute("data-panel") === "auto";
    slides = [];
    // After the close, why this result comes first (with its fairness figures and chart).
    var explain = panels.querySelector(".panel-explain");
    if (explain) { slides.push(explain); }
    panels.querySelectorAll(".panel-results .result-page").forEach(function (page) { slides.push(page); });
    var funded = panels.querySelector(".panel-funded");
    if (funded) { slides.push(funded); }
    if (!auto || slides.length < 2) {
      panels.classList.remove("rotating");
      slides.forEach(function (el) { el.hidden = false; el.classList.remove("rotated-out"); });
      return;
    }
    panels.classList.add("rotating");
    current = current % slides.length;
    show();
  }
  function show() {
    var results = panels.querySelector(".panel-results");
    slides.forEach(function (el, i) {
      var on = i === current;
      if (el.classList.contains("panel")) { el.classList.toggle("rotated-out", !on); }
      else { el.hidden = !on; }
    });
    if (results) {
      var pageShown = slides[current] && !slides[current].classList.contains("panel");
      results.classList.toggle("rotated-out", !pageShown);
    }
  }
  function rotate() {
    if (slides.length > 1 && panels.classList.contains("rotating")) {
      current = (current + 1) % slides.length;
      show();
    }
  }

  setupRotation();
  timer = window.setInterval(rotate, ROTATE_MS);
  // Lets a browser test (or a remote at the kiosk) step through every rotation without waiting.
  window.civicvoteBoard = {
    rotate: rotate,
    steps: function () { return panels.classList.contains("rotating") ? slides.length : 1; }
  };
  window.setInterval(tick, 1000);
  tick();
  window.setTimeout(poll, POLL_MS);
})();
