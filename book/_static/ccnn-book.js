/* coursecnn book: small fixes that need the rendered page. Loaded on every page (book/_static).
   - a box that scrolls sideways (code, an equation, a table) can be reached and scrolled with the
     keyboard (WCAG 2.1.1; axe's scrollable-region-focusable), under a name of its own ("Table:
     <caption>", "Equation 3", ...) so that no two read the same;
   - a wide figure strip scrolls on a phone instead of shrinking its panels to stamps; every figure
     opens full size on a tap;
   - ipywidgets saved in the page have no Python behind them: a widget view with controls is marked
     as a picture, made inert (no focus, no input) and captioned "run this notebook to use it", so
     no control accepts input and then shows stale results. Only the widget view is touched: the
     text, figures and tables of the same output (and their copy buttons) stay as they are;
   - the theme's search and colour-mode buttons get accessible names that contain their visible
     text (WCAG 2.5.3, axe's label-content-name-mismatch): "Search Ctrl+K", "Color mode: Light";
   - table header cells with no text become data cells (a header must name its column), the
     sidebar's brand sits in a navigation landmark, the phone's contents panels close when an entry
     is picked, search snippets show formulas without TeX, and print opens every folded block.
   window.ccnnBook.refresh() runs it all again (the browser tests call it before they measure). */
(function () {
  "use strict";
  var STATIC_NOTE = "Run this notebook to use it. Without Python behind the page, these controls are " +
    "a still picture of the explorer as the book was built; the explorers drawn in the browser " +
    "(on this page and on the Explorers page) work here.";

  function article() { return document.querySelector("article.bd-article") || document.querySelector("main") || document.body; }

  var KINDS = [["table, .table-wrapper, .pst-scrollable-table-container", "Table"],
    ["div.math, mjx-container", "Equation"], ["figure, .ccnn-strip-box", "Figure"],
    [".ccnn-explorer", "Explorer"], [".widget-box", "Widget"], [".cell_output, .output", "Output"]];
  function clean(text) { return (text || "").replace(/^(Fig\.|Table) [0-9.]+\s*/, "").replace(/[#\u00b6]\s*$/, "").replace(/\s+/g, " ").trim(); }
  // A name for a box that scrolls: what it holds and, when there is one, its caption.
  function scrollName(el) {
    for (var k = 0; k < KINDS.length; k++) {
      if (!(el.matches(KINDS[k][0]) || el.querySelector(KINDS[k][0]))) continue;
      var kind = KINDS[k][1], text = "";
      var table = el.matches("table") ? el : el.querySelector("table");
      var figure = el.closest("figure");
      if (kind === "Table" && table) {
        var cap = table.querySelector("caption");
        text = cap ? clean(cap.textContent) : Array.prototype.map.call(table.querySelectorAll("tr:first-child > *"),
          function (c) { return c.textContent.trim(); }).filter(Boolean).slice(0, 4).join(", ");
      } else if (kind === "Equation") {
        var number = el.closest("div.math") && el.closest("div.math").querySelector(".eqno");
        text = number ? clean(number.textContent) : "";
      } else if (figure && figure.querySelector("figcaption")) {
        text = clean(figure.querySelector("figcaption").textContent);
      }
      return "Scrolls sideways: " + kind.toLowerCase() + (text ? ", " + text.slice(0, 80) : "");
    }
    return "Scrolls sideways";
  }

  function markScrollBoxes(root) {
    var all = root.querySelectorAll("pre, div.math, mjx-container, .table-wrapper, .pst-scrollable-table-container, " +
      ".cell_output, .cell_output .output, .widget-box, .ccnn-strip-box, .ccnn-explorer");
    var names = {};
    Array.prototype.forEach.call(all, function (el) {
      if (el.closest("[inert], [aria-hidden=true]")) return;
      var st = getComputedStyle(el);
      var scrolls = (st.overflowX === "auto" || st.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1;
      // (the theme gives pre blocks tabindex -1 or 0 once, at load; a narrowed window needs 0)
      var tab = el.getAttribute("tabindex"), label = el.getAttribute("aria-label");
      var ours = el.hasAttribute("data-ccnn-named");
      if (scrolls) {
        if (tab === null || Number(tab) < 0) {
          el.setAttribute("data-ccnn-scroll", tab === null ? "" : tab);
          el.setAttribute("tabindex", "0");
        }
        // the theme names its table boxes "scrollable content", all alike: name each after what it holds
        if (el.tagName !== "PRE" && (!label || label === "scrollable content" || ours)) {
          var name = scrollName(el), n = (names[name] = (names[name] || 0) + 1);
          if (n > 1) name += " (" + n + ")";
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", name);
          el.setAttribute("data-ccnn-named", "");
        }
      } else {
        if (el.hasAttribute("data-ccnn-scroll")) {
          var old = el.getAttribute("data-ccnn-scroll");
          if (old === "") el.removeAttribute("tabindex"); else el.setAttribute("tabindex", old);
          el.removeAttribute("data-ccnn-scroll");
        }
        // a box that no longer scrolls (a wider window) is no landmark and no tab stop
        if (ours || label === "scrollable content") {
          el.removeAttribute("aria-label"); el.removeAttribute("role"); el.removeAttribute("data-ccnn-named");
          if (label === "scrollable content" && el.getAttribute("tabindex") === "0") el.removeAttribute("tabindex");
        }
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

  var CONTROLS = "input, select, textarea, button, [role=slider], .noUi-target";
  function markStaticWidgets(root) {
    // A widget view is the manager's .widget-subarea (with its view script); progress bars and
    // labels take no input and stay as they are. Copy buttons of the same output are not controls.
    Array.prototype.forEach.call(root.querySelectorAll(".cell_output .widget-subarea"), function (view) {
      if (view.dataset.ccnnStatic || !view.querySelector(".jupyter-widgets")) return;
      if (!view.querySelector(CONTROLS)) return;
      view.dataset.ccnnStatic = "yes";
      view.setAttribute("inert", "");
      view.classList.add("ccnn-static-widget");
      var note = document.createElement("p");
      note.className = "ccnn-static-note";
      note.textContent = STATIC_NOTE;
      view.parentNode.insertBefore(note, view);
    });
  }

  // An inline formula wider than its paragraph (a phone's column) scrolls in its own box.
  function wideInlineMath(root) {
    Array.prototype.forEach.call(root.querySelectorAll(":is(p, li, dd) > span.math > mjx-container:not([display=true])"), function (m) {
      var marked = m.classList.contains("ccnn-wide-inline");
      var wide = marked ? m.scrollWidth > m.clientWidth + 1 : m.getBoundingClientRect().width > m.closest("p, li, dd").clientWidth + 1;
      if (wide !== marked) m.classList.toggle("ccnn-wide-inline", wide);
    });
  }

  // A header cell without text names nothing (axe's empty-table-header): make it a data cell.
  function emptyHeaders(root) {
    Array.prototype.forEach.call(root.querySelectorAll("table th"), function (th) {
      var math = th.querySelector("mjx-container");
      if (math && !th.querySelector(".ccnn-sr-math")) {
        // a formula as a column's name: screen readers get it as text (axe finds no text in MathJax's SVG)
        var tex = th.querySelector("span.math") ? th.querySelector("span.math").getAttribute("data-ccnn-tex") : null;
        var said = document.createElement("span");
        said.className = "visually-hidden ccnn-sr-math";
        said.textContent = texToText(tex || (math.querySelector("mjx-assistive-mml") || math).textContent);
        math.setAttribute("aria-hidden", "true");
        math.setAttribute("tabindex", "-1");  // (its context menu is not needed for a column name)
        math.parentNode.insertBefore(said, math);
        return;
      }
      if (th.textContent.trim() || th.querySelector("img[alt], svg")) return;
      var td = document.createElement("td");
      Array.prototype.forEach.call(th.attributes, function (a) { if (a.name !== "scope") td.setAttribute(a.name, a.value); });
      while (th.firstChild) td.appendChild(th.firstChild);
      th.parentNode.replaceChild(td, th);
    });
  }

  // Each figure picture opens full size on a tap: on a phone its text may be too small to read.
  function fullSize(root) {
    Array.prototype.forEach.call(root.querySelectorAll("figure img"), function (img) {
      if (img.closest("a") || img.closest("[inert]") || !/_images\//.test(img.getAttribute("src") || "")) return;
      var a = document.createElement("a");
      a.className = "ccnn-full";
      a.href = img.getAttribute("src");
      a.title = "Open the figure full size";
      img.parentNode.insertBefore(a, img);
      a.appendChild(img);
    });
  }

  // The sidebar's brand (the book's title) sits outside every landmark (axe's region rule).
  function brandLandmark() {
    Array.prototype.forEach.call(document.querySelectorAll(".sidebar-primary-items__start > .sidebar-primary-item"), function (item) {
      if (!item.querySelector(".navbar-brand") || item.closest("nav, [role=navigation]")) return;
      item.setAttribute("role", "navigation");
      item.setAttribute("aria-label", "Book home");
    });
  }

  // On a phone the contents panels are modal dialogs; picking an entry on the same page scrolls
  // to it, so close the dialog rather than leave it over the text the reader asked for.
  function closePanelsOnPick() {
    document.addEventListener("click", function (e) {
      var link = e.target.closest && e.target.closest("a[href]");
      var dialog = link && link.closest("dialog[open]");
      if (!dialog || typeof dialog.close !== "function") return;
      dialog.close();
      var href = link.getAttribute("href");
      var target = href.charAt(0) === "#" && document.getElementById(decodeURIComponent(href.slice(1)));
      if (target) {  // the closing dialog gives the page its scroll back: go there ourselves
        e.preventDefault();
        history.pushState(null, "", href);
        target.scrollIntoView();
      }
    });
  }

  // Search snippets are cut from the pages' HTML, where math is still TeX: \(n_{out}\) becomes n_out.
  var TEX = [[/\\(?:mathbf|mathrm|mathit|boldsymbol|operatorname|text|mathcal|bm)\s*\{([^{}]*)\}/g, "$1"],
    [/\\(?:left|right|big|Big|bigg|Bigg|,|;|!|quad|qquad|displaystyle)\b/g, " "], [/\\times\b/g, "\u00d7"],
    [/\\cdot[s]?\b/g, "\u00b7"], [/\\le(?:q)?\b/g, "\u2264"], [/\\ge(?:q)?\b/g, "\u2265"], [/\\ne(?:q)?\b/g, "\u2260"],
    [/\\sum\b/g, "\u2211"], [/\\partial\b/g, "\u2202"], [/\\to\b|\\rightarrow\b/g, "\u2192"], [/\\in\b/g, "\u2208"],
    [/\\approx\b/g, "\u2248"], [/\\star\b|\\ast\b/g, "*"], [/\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "($1)/($2)"],
    [/\\sqrt\s*\{([^{}]*)\}/g, "\u221a($1)"], [/\\([A-Za-z]+)/g, "$1"], [/\\(.)/g, "$1"], [/[{}]/g, ""], [/\s+/g, " "]];
  function texToText(tex) {
    var t = tex.replace(/^\s*(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)\s*$/g, "");
    for (var k = 0; k < TEX.length; k++) t = t.replace(TEX[k][0], TEX[k][1]);
    return t.trim();
  }
  function plainSearchSnippets() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.ccnn) return;
    var original = Search.htmlToText;
    Search.htmlToText = function (html, anchor) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      Array.prototype.forEach.call(doc.querySelectorAll(".math, mjx-container"), function (m) {
        m.textContent = " " + texToText(m.textContent) + " ";
      });
      return original.call(this, doc.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.ccnn = true;
  }

  // Print every folded answer and check open; put them back as they were afterwards.
  function printOpen() {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      Array.prototype.forEach.call(document.querySelectorAll("details:not([open])"), function (d) { d.open = true; opened.push(d); });
    });
    window.addEventListener("afterprint", function () { opened.splice(0).forEach(function (d) { d.open = false; }); });
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
    brandLandmark();
    markStaticWidgets(root);
    emptyHeaders(root);
    markStrips(root);
    fullSize(root);
    wideInlineMath(root);
    markScrollBoxes(root);
  }

  window.ccnnBook = { refresh: refresh, staticNote: STATIC_NOTE, texToText: texToText, scrollName: scrollName };
  function start() {
    plainSearchSnippets();
    closePanelsOnPick();
    printOpen();
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
