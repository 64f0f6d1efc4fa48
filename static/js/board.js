// Live board: polls a cheap endpoint with If-None-Match; 304 while nothing changed.
// Reconnects by itself; shows the last update time and an offline marker when updates stop.
(function () {
  "use strict";
  var shell = document.getElementById("board");
  var panels = document.getElementById("board-panels");
  if (!shell || !panels || !window.fetch) { return; }
  var url = shell.getAttribute("data-live-url");
  var etag = null;
  // The newest snapshot shown so far: another worker may still hold an older one for a moment.
  var shownReadAt = Number(shell.getAttribute("data-read-at")) || 0;
  var lastOk = Date.now();
  var POLL_MS = 1000, OFFLINE_AFTER_MS = 5000, ROTATE_MS = 15000;
  var updated = document.getElementById("board-updated");
  var updatedText = shell.getAttribute("data-updated-text");
  var offlineText = shell.getAttribute("data-offline-text");
  var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { hour: "2-digit", minute: "2-digit", second: "2-digit" });

  function markOnline() {
    lastOk = Date.now();
    document.body.classList.remove("offline");
    updated.textContent = updatedText.replace("{time}", timeFormat.format(new Date()));
  }

  function checkOffline() {
    if (Date.now() - lastOk > OFFLINE_AFTER_MS) {
      document.body.classList.add("offline");
      updated.textContent = offlineText;
    }
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(url, { headers: headers, cache: "no-store" }).then(function (response) {
      if (response.status === 304) { markOnline(); return null; }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      var tag = response.headers.get("ETag");
      return response.json().then(function (body) {
        if (body.read_at < shownReadAt) { markOnline(); return null; }
        etag = tag;
        shownReadAt = body.read_at;
        return body;
      });
    }).then(function (body) {
      if (body) {
        // Server-rendered, autoescaped markup from our own endpoint.
        panels.innerHTML = body.html;
        panels.setAttribute("data-panel", body.panel);
        markOnline();
        setupRotation();
      }
    }).catch(checkOffline).then(function () {
      checkOffline();
      window.setTimeout(poll, POLL_MS);
    });
  }

  // Rotation: when the presenter leaves the board on "auto", the main panels (and pages of a
  // long result list) take turns beside the attendance panel.
  var slides = [], current = 0, timer = null;
  function setupRotation() {
    var auto = panels.getAttribute("data-panel") === "auto";
    slides = [];
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
  window.setTimeout(poll, POLL_MS);
})();
