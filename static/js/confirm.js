// "Confirm my vote": on submit every button is disabled and "sending" is shown, and a lost or
// slow answer is sent again by itself. Retrying is safe: the vote's key belongs to the card,
// so the server answers a retry with the first vote's receipt. Loaded in the page's head, before
// the form exists, so it is ready before the first tap. Without it the form posts as usual.
(function () {
  "use strict";
  var TIMEOUT = 15000, PAUSE = 2000, TRIES = 8;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("confirm-form")) { return; }
    if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
    form.setAttribute("data-sending", "1");
    var data = new FormData(form);
    var controls = form.querySelectorAll("button, .button");
    for (var i = 0; i < controls.length; i++) {
      controls[i].disabled = true;
      controls[i].setAttribute("aria-disabled", "true");
    }
    var note = form.querySelector(".submitting-note");
    if (note) { note.hidden = false; }
    if (!window.fetch || !window.AbortController) { return; }
    event.preventDefault();
    var tries = 0;
    var send = function () {
      tries += 1;
      var controller = new AbortController();
      var timer = window.setTimeout(function () { controller.abort(); }, TIMEOUT);
      fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin", signal: controller.signal
      }).then(function (response) {
        window.clearTimeout(timer);
        if (response.status >= 500) { throw new Error("server " + response.status); }
        if (response.redirected) { window.location.assign(response.url); return; }
        form.submit();  // a refusal (closed, invalid...): let the page show it
      }).catch(function () {
        window.clearTimeout(timer);
        if (note && form.getAttribute("data-retrying")) {
          note.textContent = form.getAttribute("data-retrying");
        }
        if (tries < TRIES) { window.setTimeout(send, PAUSE); } else { form.submit(); }
      });
    };
    send();
  });
})();
