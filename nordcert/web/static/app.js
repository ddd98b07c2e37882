// nordcert web interface: the little behaviour pages need, written for this site (no libraries).
"use strict";
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const confirmer = target.closest("[data-confirm]");
  if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
    event.preventDefault();
    return;
  }
  const copier = target.closest("[data-copy]");
  if (copier) {
    const source = document.getElementById(copier.getAttribute("data-copy"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        const label = copier.textContent;
        copier.textContent = "Copied";
        setTimeout(() => { copier.textContent = label; }, 1500);
      });
    }
  }
});
