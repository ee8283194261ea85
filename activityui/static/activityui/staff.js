/* activityui staff console: progressive enhancements only (the page works without them).
   - "Copy link" copies the filter URL (navigator.clipboard; the URL field stays selectable);
   - the detail panel takes focus when it opens, and closes with its button or Escape;
   - the filter column starts collapsed on narrow screens. */
(function () {
  "use strict";

  var NARROW = "(max-width: 60rem)";
  var lastOpener = null;

  function panel() {
    return document.getElementById("staff-detail");
  }

  function markOpenRow(row) {
    document.querySelectorAll(".aui-staff__row--open").forEach(function (other) {
      other.classList.remove("aui-staff__row--open");
    });
    if (row) row.classList.add("aui-staff__row--open");
  }

  function closePanel() {
    var box = panel();
    if (!box || !box.firstElementChild) return;
    box.replaceChildren();
    markOpenRow(null);
    if (lastOpener && document.body.contains(lastOpener)) lastOpener.focus();
  }

  function revealCopyButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("[data-aui-copy-button]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var copy = target.closest("[data-aui-copy-button]");
    if (copy) {
      var wrap = copy.closest("[data-aui-copy]");
      var input = wrap && wrap.querySelector("input");
      var status = wrap && wrap.querySelector("[data-aui-copy-status]");
      if (!input) return;
      navigator.clipboard.writeText(input.value).then(
        function () {
          if (status) status.textContent = copy.dataset.copied || "Link copied";
        },
        function () {
          input.select();
          if (status) status.textContent = copy.dataset.failed || "Press Ctrl+C to copy";
        }
      );
      return;
    }
    var opener = target.closest(".aui-staff__rowlink");
    if (opener) {
      lastOpener = opener;
      markOpenRow(opener.closest("tr"));
      return;
    }
    var close = target.closest("#staff-detail [data-aui-close]");
    if (close) {
      event.preventDefault();
      closePanel();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && panel() && panel().firstElementChild) closePanel();
  });

  document.addEventListener("focusin", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.id === "staff-permalink") input.select();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "staff-detail") {
      var title = target.querySelector("#staff-detail-title");
      if (title) title.focus();
    }
    revealCopyButtons(document);
  });

  function init() {
    revealCopyButtons(document);
    var box = document.getElementById("staff-filters-box");
    if (box && window.matchMedia(NARROW).matches && !box.querySelector("[aria-invalid=true]")) {
      box.open = false;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
