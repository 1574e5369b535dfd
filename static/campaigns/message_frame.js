// Inside the preview's message frame (templates/campaigns/_message_document.html): reports
// the content's height and its tracked actions to the mock page, like the SDK's bridge. A
// lead form is checked and thanks the marketer as it would a visitor; nobody is identified.
(function () {
  var EMAIL = /^[^\s@"<>]+@[^\s@"<>.]+(\.[^\s@"<>.]+)+$/; // as static/delivery/sdk.js
  // The body's own height: the document's would never shrink below the frame's.
  function size() { parent.postMessage({height: Math.ceil(document.body.getBoundingClientRect().height)}, "*"); }
  window.addEventListener("load", size);
  if (window.ResizeObserver) new ResizeObserver(size).observe(document.body);
  size();
  function sendLead(lead) {
    var email = lead.querySelector("input[name=email]"), submit = lead.querySelector("[data-action]");
    var error = lead.querySelector("[data-lead-error]");
    if (!email || !submit) return;
    var valid = EMAIL.test(email.value.trim()) && email.value.trim().length <= 254;
    email.setAttribute("aria-invalid", !valid);
    if (error) error.hidden = valid;
    if (!valid) return email.focus();
    lead.hidden = true;
    document.querySelectorAll("[data-lead-thanks]").forEach(function (thanks) { thanks.hidden = false; });
    parent.postMessage({lead: email.value.trim(), action: submit.getAttribute("data-action")}, "*");
  }
  document.addEventListener("click", function (event) {
    var lead = event.target.closest && event.target.closest("[data-lead]");
    if (lead) {
      if (event.target.closest("button,[data-action]")) { event.preventDefault(); sendLead(lead); }
      return;
    }
    var el = event.target.closest && event.target.closest("[data-action],[data-dismiss],[data-link]");
    if (!el) return;
    event.preventDefault();
    var url = el.getAttribute("data-url") || el.getAttribute("href") || "";
    if (el.hasAttribute("data-action")) parent.postMessage({action: el.getAttribute("data-action"), url: url}, "*");
    else if (el.hasAttribute("data-link")) parent.postMessage({link: url}, "*");
    else parent.postMessage({dismiss: true}, "*");
  }, true);
  document.addEventListener("keydown", function (event) {
    var lead = event.key === "Enter" && event.target.tagName === "INPUT" && event.target.closest("[data-lead]");
    if (lead) { event.preventDefault(); sendLead(lead); }
  });
})();
