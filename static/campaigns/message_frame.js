// Inside the preview's message frame (templates/campaigns/_message_document.html): reports
// the content's height and its tracked actions to the mock page, like the SDK's bridge.
(function () {
  // The body's own height: the document's would never shrink below the frame's.
  function size() { parent.postMessage({height: Math.ceil(document.body.getBoundingClientRect().height)}, "*"); }
  window.addEventListener("load", size);
  if (window.ResizeObserver) new ResizeObserver(size).observe(document.body);
  size();
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-action],[data-dismiss]");
    if (!el) return;
    event.preventDefault();
    if (el.hasAttribute("data-dismiss")) parent.postMessage({dismiss: true}, "*");
    else parent.postMessage({action: el.getAttribute("data-action"), url: el.getAttribute("data-url") || el.getAttribute("href") || ""}, "*");
  }, true);
})();
