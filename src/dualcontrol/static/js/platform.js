/* Small behaviours of every page, by data- attribute, so no page needs an inline event handler
   (the Content-Security-Policy allows scripts from the platform's own files only):
     <select data-autosubmit>        submits its form when changed
     <select data-navigate>          opens the URL of the chosen option
     <button data-print>             prints the page
     <button data-confirm="question"> asks first; "cancel" stops the click
   Listeners sit on the document, so content swapped in by htmx works the same. */
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (!(el instanceof HTMLSelectElement)) return;
    if (el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    } else if (el.hasAttribute("data-navigate") && el.value) {
      window.location.href = el.value;
    }
  });
  document.addEventListener("click", function (e) {
    var el = e.target instanceof Element ? e.target.closest("[data-print], [data-confirm]") : null;
    if (!el) return;
    if (el.hasAttribute("data-print")) {
      e.preventDefault();
      window.print();
    } else if (!window.confirm(el.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
})();
