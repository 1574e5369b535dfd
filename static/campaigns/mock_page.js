// The wizard's preview page (templates/campaigns/_mock_page.html): sizes the message frame and
// shows which action a click reports. A file, not inline: the srcdoc frame inherits the
// dashboard's Content-Security-Policy and arrives through htmx swaps, where no nonce matches.
(function () {
  var frame = document.getElementById("m"), toast = document.getElementById("toast"), timer;
  window.addEventListener("message", function (event) {
    var data = event.data || {};
    if (!frame || event.source !== frame.contentWindow) return;
    if (data.height) frame.style.height = Math.min(data.height, window.innerHeight - 20) + "px";
    var text = data.dismiss ? "Dismissed: the visitor closed the message"
      : data.lead ? "Lead: identifies " + data.lead + ", reports “" + data.action + "”"
      : data.link ? "Link: the visitor goes to " + data.link + " (nothing is counted)"
      : data.action ? "Click reported: action “" + data.action + "”" + (data.url ? " → " + data.url : "") : "";
    if (text) {
      toast.textContent = text;
      toast.className = "toast on";
      clearTimeout(timer);
      timer = setTimeout(function () { toast.className = "toast"; }, 2200);
    }
  });
})();
