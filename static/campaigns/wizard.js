// The wizard's small conveniences. Everything works without this script: the server validates
// (and says which positions fit a display type) and CSS shows the fields a choice needs.
(function () {
  // Step 5: offer only the positions that fit the display type; pick the first if needed.
  function syncPositions(root) {
    var type = root.querySelector("select[name=display_type]");
    var position = root.querySelector("select[name=display_position]");
    if (!type || !position) return;
    var valid = [];
    Array.prototype.forEach.call(position.options, function (option) {
      var fits = (option.dataset.for || "").split(" ").indexOf(type.value) !== -1;
      option.hidden = !fits;
      option.disabled = !fits;
      if (fits) valid.push(option);
    });
    var current = position.options[position.selectedIndex];
    if (valid.length && (!current || current.disabled)) {
      var chosen = type.options[type.selectedIndex];
      position.value = (chosen && chosen.dataset.defaultPosition) || valid[0].value;
      position.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[name=display_type]")) syncPositions(event.target.form);
  });

  // Step 2: an audience row offers only the operators its attribute takes (the server checks).
  function syncOperators(attribute) {
    var row = attribute.closest(".audience-row");
    var operator = row && row.querySelector("select[data-audience-operator]");
    if (!operator) return;
    var chosen = attribute.options[attribute.selectedIndex];
    var fitting = ((chosen && chosen.dataset.operators) || "").split(" ").filter(Boolean);
    Array.prototype.forEach.call(operator.options, function (option) {
      var fits = !fitting.length || fitting.indexOf(option.value) !== -1;
      option.hidden = !fits;
      option.disabled = !fits;
    });
    if (fitting.length && fitting.indexOf(operator.value) === -1) operator.value = fitting[0];
  }
  function syncAllOperators(root) {
    if (!root.querySelectorAll) return;
    Array.prototype.forEach.call(root.querySelectorAll("select[data-audience-attribute]"), syncOperators);
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-audience-attribute]")) syncOperators(event.target);
  }, true);  // capture: before the tester asks with the row's values

  // Typing a number of views chooses "Up to a number of times".
  document.addEventListener("focusin", function (event) {
    var value = event.target.dataset && event.target.dataset.selects;
    if (!value || !event.target.form) return;
    var radio = event.target.form.querySelector('input[type=radio][value="' + value + '"]');
    if (radio && !radio.checked) radio.checked = true;
  });
  // The same for date fields inside a "At a date and time" card.
  document.addEventListener("focusin", function (event) {
    var card = event.target.closest && event.target.closest(".choice-card");
    if (!card || event.target.type === "radio") return;
    var radio = card.querySelector("input[type=radio]");
    if (radio && !radio.checked) radio.checked = true;
  });

  // Unsaved changes: leaving a step whose form differs from what the page loaded with asks
  // first (closing the tab, a link, a step in the progress bar). Saving the step does not.
  // Forms compare their fields to a snapshot, so typing and undoing it is not a change.
  var GUARDED = "#wizard form.wizard-form[method=post], #wizard form.rule-add";
  var leaving = false;

  function fields(form) {
    return new URLSearchParams(new FormData(form)).toString();
  }
  function snapshot(root) {
    var forms = root.matches && root.matches(GUARDED) ? [root] : root.querySelectorAll(GUARDED);
    Array.prototype.forEach.call(forms, function (form) {
      // A form shown again with errors holds what was typed, not what is saved.
      var refused = form.querySelector(".field-error, .form-error, [aria-invalid=true]");
      form.anonmsgSaved = refused ? null : fields(form);
    });
  }
  function unsaved() {
    return Array.prototype.some.call(document.querySelectorAll(GUARDED), function (form) {
      if (form.anonmsgSaved === undefined || form.anonmsgSubmitting) return false;
      return form.anonmsgSaved === null || fields(form) !== form.anonmsgSaved;
    });
  }
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches(GUARDED)) event.target.anonmsgSubmitting = true;
  }, true);
  // Buttons with their own hx-post (Next, Back, Save and exit) save the step too; the content
  // form's own hx-post only refreshes the preview, which saves nothing.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.matches || !elt.matches("button, input[type=submit]")) return;
    var form = elt.closest(GUARDED);
    if (form) form.anonmsgSubmitting = true;
  });
  // A request that failed (network, 5xx) leaves the form as it was: still unsaved.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest(GUARDED);
    if (form && !event.detail.successful) form.anonmsgSubmitting = false;
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.target === "_blank" || link.hasAttribute("download") || !unsaved()) return;
    if (window.confirm("This step has changes you have not saved. Leave without saving them?")) {
      leaving = true;  // the browser's own "leave site?" need not ask again
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);
  window.addEventListener("beforeunload", function (event) {
    if (leaving || !unsaved()) return;
    event.preventDefault();
    event.returnValue = "";  // older browsers need a value to ask
  });

  // Content step: switching from the builder to HTML starts from the builder's HTML (as the
  // live preview last built it), unless the HTML box holds something else already.
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches("input[name=mode][value=html]") || !radio.checked || !radio.form) return;
    var box = radio.form.querySelector("textarea[name=html]");
    var built = document.querySelector("[data-built-html]");
    if (!box || !built) return;
    var value = box.value.trim();
    if (value === "" || value === box.dataset.fromBuilder) {
      box.value = built.dataset.builtHtml;
      box.dataset.fromBuilder = box.value.trim();
    }
  }, true);  // capture: before htmx posts the form for the preview

  // In builder mode the HTML box holds the saved builder's HTML, nothing typed by hand.
  function markBuilderHtml(root) {
    var radio = root.querySelector && root.querySelector("input[name=mode][value=builder]:checked");
    var box = radio && radio.form && radio.form.querySelector("textarea[name=html]");
    if (box) box.dataset.fromBuilder = box.value.trim();
  }

  function init(root) {
    syncPositions(root);
    syncAllOperators(root);
    markBuilderHtml(root);
    snapshot(root);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    leaving = false;
    init(event.target);
  });
})();
