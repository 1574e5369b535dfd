// Small progressive enhancements for every dashboard page. Pages work without them.
(() => {
  if (window.anonmsgApp) return; // included twice: bind once
  window.anonmsgApp = true;

  document.addEventListener("click", (event) => {
    // Copy buttons: <button data-copy="#selector">.
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const source = document.querySelector(copy.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.innerText.trim()).then(() => {
          const label = copy.innerHTML;
          copy.textContent = "Copied";
          copy.classList.add("is-copied");
          setTimeout(() => {
            copy.innerHTML = label;
            copy.classList.remove("is-copied");
          }, 1500);
        });
      }
      return;
    }
    // Flash messages: <button data-dismiss> removes its message.
    const dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) {
      dismiss.closest(".flash")?.remove();
      return;
    }
    // Close open menus (<details>) when clicking elsewhere.
    document.querySelectorAll("details.switcher[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // Under the Content-Security-Policy inline handlers (onchange=…) do not run: these
  // data attributes replace them.
  // <input data-autosubmit>: changing it submits its form (htmx takes over when the form has hx-post).
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-autosubmit]") && event.target.form) {
      event.target.form.requestSubmit();
    }
  });
  // <form data-confirm="Question?">: submitting asks first.
  document.addEventListener(
    "submit",
    (event) => {
      const question = event.target.dataset && event.target.dataset.confirm;
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.switcher[open]").forEach((menu) => menu.removeAttribute("open"));
  });
})();
