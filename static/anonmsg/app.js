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

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.switcher[open]").forEach((menu) => menu.removeAttribute("open"));
  });
})();
