// The wizard's small conveniences. Everything works without this script: the server validates
// (and says which positions fit a display type) and CSS shows the fields a choice needs.
(function () {
  // Step 5: offer only the positions that fit the display type; pick the first if needed.
  function syncPositions(root) {
    var type = root.querySelector("select[name$=display_type]");
    var position = root.querySelector("select[name$=display_position]");
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
    // A's display, or a variant's own (names prefixed `variant_B-`): each in its fieldset.
    if (event.target.matches("select[name$=display_type]")) {
      syncPositions(event.target.closest("fieldset") || event.target.form);
    }
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
    var data = new FormData(form);
    data.delete("tab");  // which variant tab is open is not a change
    return new URLSearchParams(data).toString();
  }
  function snapshot(root) {
    var forms = root.matches && root.matches(GUARDED) ? [root] : root.querySelectorAll(GUARDED);
    Array.prototype.forEach.call(forms, function (form) {
      // A form shown again with errors holds what was typed, not what is saved.
      // So does one where "Add variant" or "Remove" changed what is saved (data-unsaved).
      var refused = form.querySelector(".field-error, .form-error, [aria-invalid=true]");
      form.anonmsgSaved = refused || form.hasAttribute("data-unsaved") ? null : fields(form);
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
    if (link.getAttribute("href").charAt(0) === "#") return;  // a place on this page (a tab)
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
    if (!radio.matches("input[name$=mode][value=html]") || !radio.checked || !radio.form) return;
    var editor = radio.closest(".content-editor") || radio.form;
    var box = editor.querySelector("textarea[name$=html]");
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
    if (!root.querySelectorAll) return;
    root.querySelectorAll(".content-editor").forEach(function (editor) {
      var radio = editor.querySelector("input[name$=mode][value=builder]:checked");
      var box = radio && editor.querySelector("textarea[name$=html]");
      if (box) box.dataset.fromBuilder = box.value.trim();
    });
  }

  // Content step: the variants' editors become tabs (without this script they show one after
  // another, the tabs being links to them). The hidden `tab` field tells the server which
  // variant the live preview shows and which tab to open again after a round trip.
  function selectTab(form, key, refresh) {
    var field = form.querySelector("input[name=tab]");
    form.querySelectorAll("[data-variant-tab]").forEach(function (tab) {
      var on = tab.dataset.variantTab === key;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      tab.classList.toggle("is-active", on);
    });
    form.querySelectorAll("[data-variant-panel]").forEach(function (panel) {
      panel.hidden = panel.dataset.variantPanel !== key;
    });
    if (field && field.value !== key) {
      field.value = key;
      if (refresh && window.htmx) window.htmx.trigger(form, "change");  // its preview
    }
  }
  function initTabs(root) {
    var form = root.querySelector && (root.id === "content-form" ? root : root.querySelector("#content-form"));
    var bar = form && form.querySelector("[data-variant-tabs]");
    if (!bar) return;
    form.classList.add("has-tabs");
    bar.setAttribute("role", "tablist");
    bar.setAttribute("aria-label", "Variants");
    form.querySelectorAll("[data-variant-tab]").forEach(function (tab) {
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", "variant-" + tab.dataset.variantTab);
      tab.removeAttribute("aria-current");
    });
    form.querySelectorAll("[data-variant-panel]").forEach(function (panel) {
      panel.setAttribute("role", "tabpanel");
    });
    var active = form.querySelector("[data-variant-tab].is-active");
    selectTab(form, active ? active.dataset.variantTab : "A", false);
    updateSplitTotal(form);
  }
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[data-variant-tab]");
    if (!tab || !tab.form && !tab.closest("form")) return;
    event.preventDefault();
    selectTab(tab.closest("form"), tab.dataset.variantTab, true);
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[data-variant-tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll("[data-variant-tab]"));
    var next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    selectTab(tab.closest("form"), next.dataset.variantTab, true);
    next.focus();
    event.preventDefault();
  });

  // A preview answered for the tab the marketer just left (a request that raced the switch)
  // is asked for again, so the preview always shows the open tab.
  document.addEventListener("htmx:afterSwap", function (event) {
    var shown = event.target.querySelector && event.target.querySelector("[data-preview-variant]");
    var form = document.getElementById("content-form");
    var field = form && form.querySelector("input[name=tab]");
    if (shown && field && shown.dataset.previewVariant !== field.value && window.htmx) {
      window.htmx.trigger(form, "change");
    }
  });

  // The split's running total, so that a marketer sees "adds up to 90 %" before saving.
  function updateSplitTotal(form) {
    var total = form.querySelector("[data-split-total]");
    if (!total) return;
    var sum = 0;
    form.querySelectorAll("input[data-weight]").forEach(function (input) {
      sum += parseInt(input.value, 10) || 0;
    });
    total.textContent = sum === 100 ? "Total 100 %" : "Total " + sum + " %: the weights must add up to 100";
    total.classList.toggle("is-off", sum !== 100);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-weight]")) updateSplitTotal(event.target.form);
  });

  function init(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".display-fields"), syncPositions);
    syncAllOperators(root);
    markBuilderHtml(root);
    initTabs(root);
    snapshot(root);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    leaving = false;
    init(event.target);
  });
})();
