/* coursecnn book: small fixes that need the rendered page. Loaded on every page (book/_static).
   - a box that scrolls sideways (code, an equation, a table) can be reached and scrolled with the
     keyboard (WCAG 2.1.1; axe's scrollable-region-focusable);
   - a wide figure strip scrolls on a phone instead of shrinking its panels to stamps;
   - ipywidgets saved in the page have no Python behind them: they are marked as a picture, made
     inert (no focus, no input) and captioned "run this notebook to use it", so no control accepts
     input and then shows stale results.
   - the theme's search and colour-mode buttons get accessible names that contain their visible
     text (WCAG 2.5.3, axe's label-content-name-mismatch): "Search Ctrl+K", "Color mode: Light".
   window.ccnnBook.refresh() runs it all again (the browser tests call it before they measure). */
(function () {
  "use strict";
  var STATIC_NOTE = "Run this notebook to use it. Without Python behind the page, these controls are " +
    "a still picture of the explorer as the book was built; the explorers drawn in the browser " +
    "(on this page and on the Explorers page) work here.";

  function article() { return document.querySelector("article.bd-article") || document.querySelector("main") || document.body; }

  function markScrollBoxes(root) {
    var all = root.querySelectorAll("pre, div.math, mjx-container[display='true'], .table-wrapper, .pst-scrollable-table-container, " +
      ".cell_output, .cell_output .output, .widget-box, .ccnn-strip-box, .ccnn-explorer");
    Array.prototype.forEach.call(all, function (el) {
      if (el.closest("[inert]")) return;
      var st = getComputedStyle(el);
      var scrolls = (st.overflowX === "auto" || st.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1;
      // (the theme gives pre blocks tabindex -1 or 0 once, at load; a narrowed window needs 0)
      var tab = el.getAttribute("tabindex");
      if (scrolls && (tab === null || Number(tab) < 0)) {
        el.setAttribute("data-ccnn-scroll", tab === null ? "" : tab);
        el.setAttribute("tabindex", "0");
        if (!el.getAttribute("role") && !el.getAttribute("aria-label") && el.tagName !== "PRE") {
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", "scrollable content");
        }
      } else if (!scrolls && el.hasAttribute("data-ccnn-scroll")) {
        var old = el.getAttribute("data-ccnn-scroll");
        if (old === "") el.removeAttribute("tabindex"); else el.setAttribute("tabindex", old);
        el.removeAttribute("data-ccnn-scroll");
      }
    });
  }

  function strip(img) {
    if (img.dataset.ccnnStrip || !img.naturalWidth) return;
    var ratio = img.naturalWidth / img.naturalHeight;
    img.dataset.ccnnStrip = ratio > 2.6 ? "yes" : "no";
    if (ratio <= 2.6) return;
    var box = document.createElement("div");
    box.className = "ccnn-strip-box";
    img.parentNode.insertBefore(box, img);
    box.appendChild(img);
    img.classList.add("ccnn-strip");
    // about 120 px for each (roughly square) panel, never wider than the picture itself
    box.style.setProperty("--ccnn-strip-width", Math.round(Math.min(img.naturalWidth, 120 * ratio)) + "px");
  }

  function markStrips(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".cell_output img, figure img"), function (img) {
      if (img.complete) strip(img); else img.addEventListener("load", function () { strip(img); refresh(); }, { once: true });
    });
  }

  function markStaticWidgets(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".cell_output"), function (out) {
      var view = out.querySelector(".jupyter-widgets");
      if (!view || out.dataset.ccnnStatic) return;
      var controls = out.querySelectorAll("input, select, textarea, button, [role=slider], .noUi-target");
      if (!controls.length) return;  // progress bars and pictures are fine as they are
      out.dataset.ccnnStatic = "yes";
      Array.prototype.forEach.call(out.children, function (child) {
        if (child.classList.contains("ccnn-static-note")) return;
        child.setAttribute("inert", "");
        child.classList.add("ccnn-static-widget");
      });
      var note = document.createElement("p");
      note.className = "ccnn-static-note";
      note.textContent = STATIC_NOTE;
      out.insertBefore(note, out.firstChild);
    });
  }

  var MODES = { light: "Light", dark: "Dark", auto: "System Settings" };
  function themeLabels() {
    Array.prototype.forEach.call(document.querySelectorAll("button.search-button-field"), function (b) {
      // The button's visible text ("Search... Ctrl+K") is its best name: drop the theme's shorter
      // aria-label rather than copy the text, which the theme may still change after we run.
      if (b.textContent.trim() && b.hasAttribute("aria-label")) b.removeAttribute("aria-label");
    });
    var mode = MODES[document.documentElement.dataset.mode] || MODES.auto;
    Array.prototype.forEach.call(document.querySelectorAll("button.theme-switch-button"), function (b) {
      var label = "Color mode: " + mode;
      if (b.getAttribute("aria-label") !== label) b.setAttribute("aria-label", label);
    });
  }

  function refresh() {
    themeLabels();
    var root = article();
    markStaticWidgets(root);
    markStrips(root);
    markScrollBoxes(root);
  }

  window.ccnnBook = { refresh: refresh, staticNote: STATIC_NOTE };
  function start() {
    refresh();
    // widgets and MathJax render after load; look again when they are done
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(refresh);
    var timer = null;
    new MutationObserver(function () { clearTimeout(timer); timer = setTimeout(refresh, 150); })
      .observe(article(), { childList: true, subtree: true });
    new MutationObserver(themeLabels).observe(document.documentElement, { attributes: true, attributeFilter: ["data-mode"] });
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(refresh, 150); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
  // the theme's own scripts may relabel its buttons after ours ran: look once more when all loaded
  window.addEventListener("load", themeLabels);
})();
