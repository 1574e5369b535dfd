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

  function init(root) { syncPositions(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
