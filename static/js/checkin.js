// Check-in desk: instant check-in without reloading, live attendance, camera scanning.
// Progressive enhancement only: without this file the form posts and the page reloads.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  var form = document.getElementById("checkin-form");
  if (!desk || !form || !window.fetch) { return; }
  var input = form.querySelector("input[name=code]");
  var result = document.getElementById("desk-result");
  var recent = document.getElementById("recent");
  var busy = false;

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

  function refresh() {
    fetch(desk.getAttribute("data-attendance-url"), {
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data) { showQuorum(data); showRecent(data.recent); }
    }).catch(function () { /* offline for a moment: the next poll retries */ });
  }

  function submit() {
    if (busy || !input.value.trim()) { return; }
    busy = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 429) {
          showResult("error", data.message || response.statusText);
        } else if (data.ok) {
          showResult(data.already ? "warning" : "ok", data.message, data.address);
          showQuorum(data);
          refresh();
        } else {
          showResult("error", data.message || response.statusText);
        }
      });
    }).catch(function () {
      showResult("error", input.getAttribute("data-offline") || "…");
    }).then(function () {
      busy = false;
      input.value = "";
      input.focus();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
  window.setInterval(refresh, 5000);

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
      if (codes.length && !busy) {
        input.value = codes[0].rawValue;
        submit();
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
