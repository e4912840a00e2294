// The projector page of self check-in: counts the seconds down and, when the code changes,
// fetches the page again and swaps in the new code panel (without scripts, a meta refresh
// in <noscript> reloads the page instead).
"use strict";
(function () {
  const panel = () => document.getElementById("code-panel");
  if (!panel()) return;
  let left = Number(panel().dataset.seconds) || 15;
  const tick = async () => {
    left -= 1;
    const shown = document.getElementById("seconds-left");
    if (left > 0) {
      if (shown) shown.textContent = String(left);
      return;
    }
    try {
      const answer = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
      if (!answer.ok) { window.location.reload(); return; }
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById("code-panel");
      if (!fresh) { window.location.reload(); return; }
      panel().replaceWith(fresh);
      left = Number(fresh.dataset.seconds) || 15;
    } catch (_) {
      left = 2;
    }
  };
  window.setInterval(tick, 1000);
})();
