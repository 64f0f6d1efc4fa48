// The ballot page's enhancements: a running total (budget, points, count) with instant feedback,
// and a warning before leaving with a selection that is not confirmed. The page works without it.
(function () {
  "use strict";

  function yuan(fen) {
    var lang = document.documentElement.lang || "zh-Hans";
    var amount = (fen / 100).toLocaleString(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return "¥" + amount;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, name) {
      return values[name] !== undefined ? values[name] : "";
    });
  }

  var dirty = false;
  var submitting = false;

  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
      return "";
    }
  });

  var form = document.querySelector("form.ballot-form[data-method]");
  if (form) {
    var method = form.getAttribute("data-method");
    var budget = parseInt(form.getAttribute("data-budget"), 10) || 0;
    var maxPoints = parseInt(form.getAttribute("data-points"), 10) || 0;
    var maxChoices = parseInt(form.getAttribute("data-max"), 10) || 0;
    var out = document.getElementById("ballot-total");
    var submit = form.querySelector("button[type=submit]");

    var update = function () {
      var text = "";
      var bad = false;
      if (method === "knapsack" || method === "approval") {
        var boxes = form.querySelectorAll("input[name=selection]:checked");
        var total = 0;
        for (var i = 0; i < boxes.length; i++) {
          total += parseInt(boxes[i].getAttribute("data-cost"), 10) || 0;
        }
        if (method === "knapsack") {
          text = fill(form.getAttribute("data-total-label"), { total: yuan(total), budget: yuan(budget) });
          if (total > budget) { bad = true; text += " " + form.getAttribute("data-over-label"); }
        } else {
          text = fill(form.getAttribute("data-count-label"), { count: boxes.length });
        }
        if (maxChoices && boxes.length > maxChoices) {
          bad = true; text += " " + form.getAttribute("data-too-many-label");
        }
      } else if (method === "cumulative") {
        var inputs = form.querySelectorAll("input[data-points]");
        var used = 0;
        for (var j = 0; j < inputs.length; j++) {
          var n = parseInt(inputs[j].value, 10);
          if (n > 0) { used += n; }
        }
        text = fill(form.getAttribute("data-points-label"), { used: used, total: maxPoints });
        if (used > maxPoints) { bad = true; text += " " + form.getAttribute("data-points-over-label"); }
      }
      if (out && text) {
        out.textContent = text;
        out.classList.toggle("over", bad);
      }
      if (submit) { submit.setAttribute("aria-describedby", "ballot-total"); }
    };

    form.addEventListener("change", function () { dirty = true; update(); });
    form.addEventListener("input", update);
    form.addEventListener("submit", function () { submitting = true; });
    update();
  }

  // The review page: the choice is still unconfirmed until "confirm" is pressed.
  var confirmForm = document.querySelector("form.confirm-form");
  if (confirmForm) {
    dirty = true;
    confirmForm.addEventListener("submit", function (event) {
      submitting = true;
      var button = event.submitter;
      // A double tap sends one request; a retry after a network failure reuses the same key.
      if (button && button.name === "confirm") {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  }
})();
