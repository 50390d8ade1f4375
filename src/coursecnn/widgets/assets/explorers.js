/* coursecnn explorers: static, kernel-free twins of coursecnn.widgets.
 *
 * Every <div class="ccnn-explorer" data-kind="kernel|arithmetic|pooling" data-config="{json}">
 * on a page becomes a live explorer. The data (photo, digits) comes from Python, embedded in
 * data-config by coursecnn.widgets.static_explorer. The arithmetic mirrors coursecnn.ref:
 * cross-correlation (no kernel flip), zero padding, output sizes floored like PyTorch.
 * Plain JavaScript, no framework, no network. Each mounted root carries its state in `root.ccnn`
 * (used by the browser tests to read numbers back).
 */
(function () {
  "use strict";
  if (window.coursecnnExplorers) {  // loaded twice (book page plus inline copy): just mount
    window.coursecnnExplorers.scan();
    return;
  }

  // ------------------------------------------------------------------ numbers

  // Output size along one axis: (n + 2p - d(f-1) - 1)/s + 1, floored like PyTorch.
  // coursecnn.arith.conv_output_size is the reference; the browser tests hold this to it.
  function outSize(n, f, s, p, d) {
    var eff = d * (f - 1) + 1, span = n + 2 * p - eff;
    return {
      exact: span / s + 1, exact2: fixed2(span + s, s), eff: eff, span: span, padded: n + 2 * p,
      size: span < 0 ? 0 : Math.floor(span / s) + 1,
      fits: span >= 0 && span % s === 0,
    };
  }

  // num/den (ints, den > 0) with 2 decimals, a tie going to the even digit as in arith's
  // f"{x:.2f}": toFixed rounds ties up (2.125 -> "2.13" where Python writes "2.12").
  function fixed2(num, den) {
    var q = Math.floor(100 * num / den), r = 100 * num - q * den;
    if (2 * r > den || (2 * r === den && q % 2 !== 0)) q += 1;
    return (q / 100).toFixed(2);
  }

  // The pooling explorer's size note: why there is no output, or what was floored (arith's
  // pool_output_size, padding 0). warn: no output at all.
  function poolNote(H, W, k, s) {
    if (k > H || k > W)
      return { size: null, warn: true, text: "The " + k + "\u00d7" + k + " window is larger than the " + H + "\u00d7" + W + " input: no output." };
    var rh = outSize(H, k, s, 0, 1), rw = outSize(W, k, s, 0, 1), r = rh.fits ? rw : rh, n = rh.fits ? W : H;
    return {
      size: [rh.size, rw.size], warn: false, fits: rh.fits && rw.fits,
      text: rh.fits && rw.fits ? "" :
        "The windows don't tile the " + H + "\u00d7" + W + " input with stride " + s + ": (" + n + " \u2212 " + k + ")/" + s + " + 1 = " +
        r.exact2 + ", floored to " + r.size + " like PyTorch; the last row/column is never pooled.",
    };
  }

  function pixel(x, i, j) {  // zero padding: outside the image reads 0
    return i < 0 || j < 0 || i >= x.length || j >= x[0].length ? 0 : x[i][j];
  }

  // Cross-correlation of one channel, as coursecnn.ref.conv2d computes it.
  function conv2d(x, k, s, p, d) {
    var F = k.length, G = k[0].length;
    var oh = outSize(x.length, F, s, p, d).size, ow = outSize(x[0].length, G, s, p, d).size;
    var out = [];
    for (var r = 0; r < oh; r++) {
      var row = [];
      for (var c = 0; c < ow; c++) {
        var acc = 0;
        for (var u = 0; u < F; u++)
          for (var v = 0; v < G; v++) acc += k[u][v] * pixel(x, r * s - p + u * d, c * s - p + v * d);
        row.push(acc);
      }
      out.push(row);
    }
    return out;
  }

  // Pooling without padding. Each output keeps its "routes": the inputs it came from and the
  // share of the gradient each receives (max: the first largest, PyTorch's tie rule; average:
  // 1/k^2 each; N-max: 1/n to each of the n largest, ties again to the first in reading order).
  function pool2d(x, k, s, mode, n) {
    var oh = outSize(x.length, k, s, 0, 1).size, ow = outSize(x[0].length, k, s, 0, 1).size;
    var out = [], routes = [];
    for (var r = 0; r < oh; r++) {
      var row = [], rrow = [];
      for (var c = 0; c < ow; c++) {
        var cells = [];
        for (var u = 0; u < k; u++)
          for (var v = 0; v < k; v++) cells.push({ i: r * s + u, j: c * s + v, x: x[r * s + u][c * s + v] });
        var picked, value;
        if (mode === "max") {
          var best = cells[0];
          cells.forEach(function (e) { if (e.x > best.x) best = e; });
          picked = [{ i: best.i, j: best.j, x: best.x, w: 1 }];
          value = best.x;
        } else if (mode === "avg") {
          picked = cells.map(function (e) { return { i: e.i, j: e.j, x: e.x, w: 1 / cells.length }; });
          value = cells.reduce(function (a, e) { return a + e.x; }, 0) / cells.length;
        } else {
          var order = cells.map(function (e, idx) { return idx; });
          order.sort(function (a, b) { return cells[b].x - cells[a].x || a - b; });
          picked = order.slice(0, n).map(function (idx) {
            var e = cells[idx];
            return { i: e.i, j: e.j, x: e.x, w: 1 / n };
          });
          value = picked.reduce(function (a, e) { return a + e.x; }, 0) / n;
        }
        row.push(value);
        rrow.push({ cells: cells, picked: picked });
      }
      out.push(row);
      routes.push(rrow);
    }
    return { out: out, routes: routes };
  }

  function fmt(v, digits) {
    if (!isFinite(v)) return String(v);
    var t = v.toFixed(digits == null ? 3 : digits);
    if (t.indexOf(".") >= 0) t = t.replace(/0+$/, "").replace(/\.$/, "");
    return t === "-0" ? "0" : t;
  }

  // A blur is written as the lecture writes it, 1/256 x [[1, 4, 6, ...]]: the common denominator
  // of the kernel's entries when that is 9, 16 or 256 (halves and quarters read fine as decimals).
  function denominator(k) {
    var dens = [1, 2, 4, 8, 9, 16, 256];
    for (var q = 0; q < dens.length; q++) {
      var d = dens[q], whole = k.every(function (row) {
        return row.every(function (v) { return Math.abs(v * d - Math.round(v * d)) < 1e-9; });
      });
      if (whole) return d > 8 ? d : 1;
    }
    return 1;
  }

  function parseEntry(text) {
    var t = String(text).trim().replace("\u2212", "-");
    var m = /^(-?\d*\.?\d+)\s*\/\s*(\d*\.?\d+)$/.exec(t);
    if (m) return Number(m[1]) / Number(m[2]);
    if (!/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(t)) return NaN;
    return Number(t);
  }

  function zeros(h, w) {
    var a = [];
    for (var i = 0; i < h; i++) { a.push([]); for (var j = 0; j < w; j++) a[i].push(0); }
    return a;
  }

  function copy2d(a) { return a.map(function (r) { return r.slice(); }); }

  // ------------------------------------------------------------------ DOM helpers

  function h(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var v = attrs[key];
      if (v == null || v === false) return;
      if (key === "class") e.className = v;
      else if (key === "text") e.textContent = v;
      else if (key.slice(0, 2) === "on") e.addEventListener(key.slice(2), v);
      else e.setAttribute(key, v === true ? "" : v);
    });
    (kids || []).forEach(function (k) {
      if (k != null) e.appendChild(typeof k === "string" ? document.createTextNode(k) : k);
    });
    return e;
  }

  var SVGNS = "http://www.w3.org/2000/svg";
  function s(tag, attrs, kids) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") e.textContent = attrs[key];
      else e.setAttribute(key, attrs[key]);
    });
    (kids || []).forEach(function (k) { e.appendChild(k); });
    return e;
  }

  function numberField(name, label, value, min, max, onchange) {
    var input = h("input", { type: "number", name: name, value: value, min: min, max: max, step: 1 });
    input.addEventListener("input", function () {
      var v = Math.round(Number(input.value));
      if (input.value !== "" && isFinite(v)) onchange(Math.min(max, Math.max(min, v)));
    });
    return { el: h("label", { class: "ccnn-field" }, [label + " ", input]), input: input };
  }

  function selectField(name, label, options, value, onchange) {
    var sel = h("select", { name: name, onchange: function () { onchange(sel.value); } },
      options.map(function (o) { return h("option", { value: o[0], text: o[1] }); }));
    sel.value = value;
    return { el: h("label", { class: "ccnn-field" }, [label + " ", sel]), input: sel };
  }

  // Gray for non-negative images, blue-white-red around 0 when there are negative values; small
  // grids that show their numbers go from white to blue so the numbers stay readable.
  function colour(v, lo, hi, light) {
    if (lo < 0) {
      var m = Math.max(-lo, hi, 1e-12), t = Math.max(-1, Math.min(1, v / m));
      var a = Math.round(255 * (1 - Math.abs(t)));
      return t >= 0 ? "rgb(255," + a + "," + a + ")" : "rgb(" + a + "," + a + ",255)";
    }
    var f = Math.max(0, Math.min(1, (v - lo) / Math.max(hi - lo, 1e-12)));
    if (light) return "rgb(" + Math.round(255 - 196 * f) + "," + Math.round(255 - 145 * f) + "," + Math.round(255 - 87 * f) + ")";
    var g = Math.round(255 * f);
    return "rgb(" + g + "," + g + "," + g + ")";
  }

  function range(a) {
    var lo = Infinity, hi = -Infinity;
    a.forEach(function (r) { r.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); }); });
    if (lo >= 0 && hi <= 1) { lo = 0; hi = 1; }  // images in [0, 1] keep their true gray levels
    else if (lo >= 0) lo = 0;
    return [lo, hi];
  }

  // Draw a grid of numbers on a canvas; `pad` cells of zero padding are drawn around it, tinted.
  // `zoom` scales the display (CSS pixels per drawn pixel), so a 64x64 photo and a 68x68 padded
  // one appear the same size.
  function paintGrid(canvas, a, cell, pad, lo, hi, numbers, zoom) {
    var H = a.length + 2 * pad, W = (a[0] ? a[0].length : 0) + 2 * pad;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = W * cell * ratio; canvas.height = H * cell * ratio;
    canvas.style.width = Math.round(W * cell * (zoom || 1)) + "px"; canvas.style.height = Math.round(H * cell * (zoom || 1)) + "px";
    // Pixel blocks for pictures; smooth scaling for numbers, where dropping a column of pixels
    // would erase a thin stroke of a digit.
    canvas.style.imageRendering = numbers ? "auto" : "pixelated";
    var g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    for (var i = 0; i < H; i++)
      for (var j = 0; j < W; j++) {
        var inside = i >= pad && j >= pad && i < H - pad && j < W - pad;
        var v = inside ? a[i - pad][j - pad] : 0;
        g.fillStyle = inside ? colour(v, lo, hi, numbers) : "#e6eef6";
        g.fillRect(j * cell, i * cell, cell, cell);
        if (numbers) {
          g.strokeStyle = "#c8c8c8"; g.lineWidth = 1;
          g.strokeRect(j * cell + 0.5, i * cell + 0.5, cell - 1, cell - 1);
          // White text only on the darkest blues, where black would be harder to read.
          var dark = inside && (lo >= 0 ? (v - lo) / Math.max(hi - lo, 1e-12) > 0.85
                                        : v < 0 && -v / Math.max(-lo, hi, 1e-12) > 0.6);
          g.fillStyle = dark ? "#fff" : inside ? "#111" : "#5f7690";
          // As large as the cell allows: shrink only the labels that would not fit ("-0.25").
          var label = fmt(v, 2), size = Math.max(10, Math.floor(cell / 2.1));
          for (g.font = size + "px sans-serif"; size > 8 && g.measureText(label).width > cell - 3;)
            g.font = --size + "px sans-serif";
          g.textAlign = "center"; g.textBaseline = "middle";
          g.fillText(label, j * cell + cell / 2, i * cell + cell / 2);
        }
      }
    return g;
  }

  function outline(g, r, c, hgt, wid, cell, color, width) {
    g.strokeStyle = color; g.lineWidth = width;
    g.strokeRect(c * cell + width / 2, r * cell + width / 2, wid * cell - width, hgt * cell - width);
  }

  function explainer(el) { return h("div", { class: "ccnn-note" }, el ? [el] : []); }

  // ------------------------------------------------------------------ kernel explorer

  function kernelExplorer(root, cfg) {
    var st = {
      image: cfg.image, preset: cfg.kernel, size: cfg.size, padding: cfg.padding || 0, scale: 1,
      kernel: null, sel: null, message: "",
    };
    var images = cfg.images, kernels = cfg.kernels;

    function imageData() {
      var im = images[st.image];
      return im.data.map(function (r) { return r.map(function (v) { return v / im.scale; }); });
    }

    function resize(k, size) {  // crop or zero-pad a kernel around its centre
      var out = zeros(size, size), off = (size - k.length) / 2;
      for (var i = 0; i < size; i++)
        for (var j = 0; j < size; j++) {
          var a = i - off, b = j - off;
          if (a >= 0 && b >= 0 && a < k.length && b < k.length) out[i][j] = k[a][b];
        }
      return out;
    }

    var imageSel = selectField("image", "Input", Object.keys(images).map(function (k) { return [k, images[k].label]; }),
      st.image, function (v) { st.image = v; st.sel = null; update(); });
    var presetSel = selectField("preset", "Preset",
      [["custom", "(edited)"]].concat(Object.keys(kernels).map(function (k) { return [k, kernels[k].label]; })),
      st.preset, function (v) { if (v !== "custom") setPreset(v); });
    var sizeSel = selectField("size", "Kernel", [["3", "3\u00d73"], ["5", "5\u00d75"]], String(st.size), function (v) {
      st.size = Number(v); st.kernel = resize(st.kernel, st.size); st.preset = "custom";
      st.padding = Math.min(st.padding, st.size); buildKernelTable(); update();
    });
    var padField = numberField("padding", "Zero padding", st.padding, 0, 2, function (v) { st.padding = v; st.sel = null; update(); });

    var inCanvas = h("canvas", { class: "ccnn-canvas", title: "input (blue: zero padding)", role: "img" });
    var outCanvas = h("canvas", { class: "ccnn-canvas ccnn-clickable", title: "click a pixel (or use the arrow keys) to see its dot product", role: "img" });
    var kernelBox = h("div", { class: "ccnn-kernel" });
    // A screen reader hears the result on every move (the live region); the 9 to 25 terms of the
    // dot product are in the text below the pictures, read when the reader asks for them.
    var dot = h("div", { class: "ccnn-dot" });
    var said = h("div", { class: "ccnn-said visually-hidden", "aria-live": "polite",
      style: "position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;" });
    var msg = h("div", { class: "ccnn-message" });
    var inCap = h("div", { class: "ccnn-cap" }), outCap = h("div", { class: "ccnn-cap" });
    var cells = [];

    function buildKernelTable() {
      kernelBox.innerHTML = "";
      cells = [];
      var table = h("table", { class: "ccnn-ktable ccnn-k" + st.size });
      st.scale = denominator(st.kernel);
      for (var i = 0; i < st.size; i++) {
        var tr = h("tr");
        cells.push([]);
        for (var j = 0; j < st.size; j++) {
          (function (i, j) {
            var inp = h("input", { type: "text", inputmode: "decimal", "data-row": i, "data-col": j, "aria-label": "kernel[" + i + ", " + j + "]" });
            inp.value = fmt(st.kernel[i][j] * st.scale, 4);
            inp.addEventListener("input", function () {
              var v = parseEntry(inp.value);
              inp.classList.toggle("ccnn-bad", !isFinite(v));
              if (!isFinite(v)) return;
              st.kernel[i][j] = v / st.scale; st.preset = "custom"; update();
            });
            cells[i].push(inp);
            tr.appendChild(h("td", {}, [inp]));
          })(i, j);
        }
        table.appendChild(tr);
      }
      kernelBox.appendChild(st.scale === 1 ? table : h("div", { class: "ccnn-scaled" }, [h("span", { text: "1/" + st.scale + " \u00d7" }), table]));
    }

    function setPreset(name) {
      st.preset = name;
      st.kernel = copy2d(kernels[name].values);
      st.size = st.kernel.length;
      st.padding = Math.min(st.padding, st.size);
      buildKernelTable(); update();
    }

    var output = [];
    function update() {
      var x = imageData(), H = x.length, W = x[0].length, p = st.padding, F = st.size;
      presetSel.input.value = st.preset; sizeSel.input.value = String(st.size); imageSel.input.value = st.image;
      padField.input.value = p;
      var side = Math.max(H + 2 * p, W + 2 * p), cell = Math.max(1, Math.min(36, Math.ceil(176 / side)));
      var zoom = Math.min(36, 176 / side) / cell, numbers = cell >= 24;
      var lo_hi = range(x);
      var g = paintGrid(inCanvas, x, cell, p, lo_hi[0], lo_hi[1], numbers, zoom);
      inCap.textContent = "input " + H + "\u00d7" + W + (p ? ", zero-padded to " + (H + 2 * p) + "\u00d7" + (W + 2 * p) : "");
      var oh = outSize(H, F, 1, p, 1), ow = outSize(W, F, 1, p, 1);
      if (oh.span < 0 || ow.span < 0) {
        output = [];
        st.message = "The " + F + "\u00d7" + F + " kernel is larger than the padded input (" + (H + 2 * p) + "\u00d7" + (W + 2 * p) + "): no output.";
        msg.textContent = st.message; dot.textContent = ""; said.textContent = st.message;
        outCanvas.width = outCanvas.height = 0; outCap.textContent = "";
        return;
      }
      st.message = ""; msg.textContent = "";
      output = conv2d(x, st.kernel, 1, p, 1);
      var oH = output.length, oW = output[0].length;
      if (!st.sel || st.sel[0] >= oH || st.sel[1] >= oW)
        st.sel = H <= 12 ? [0, 0] : [Math.floor(oH / 2), Math.floor(oW / 2)];
      var r = st.sel[0], c = st.sel[1];
      var lw = Math.max(1, Math.min(3, Math.round(2 / zoom)));
      outline(g, r, c, F, F, cell, "#ff8c00", lw);
      var olh = range(output);
      var go = paintGrid(outCanvas, output, cell, 0, olh[0], olh[1], numbers, zoom);
      outline(go, r, c, 1, 1, cell, "#ff8c00", lw);
      outCap.textContent = "output " + oH + "\u00d7" + oW + (olh[0] < 0 ? " (red > 0 > blue)" : "");
      inCanvas.setAttribute("aria-label", "Input image, " + H + " by " + W + " pixels" + (p ? ", with " + p + " pixels of zero padding around it" : "") +
        "; the kernel's window is outlined at the pixels that make output (" + r + ", " + c + ").");
      outCanvas.setAttribute("aria-label", "Output image, " + oH + " by " + oW + " pixels; output (" + r + ", " + c + ") = " + fmt(output[r][c], 4) +
        " is outlined. Arrow keys move it; the dot product below spells it out.");
      var terms = [];
      for (var u = 0; u < F; u++)
        for (var v = 0; v < F; v++) terms.push(fmt(st.kernel[u][v] * st.scale, 4) + "\u00b7" + fmt(pixel(x, r - p + u, c - p + v), 3));
      dot.innerHTML = "";
      dot.appendChild(h("span", { class: "ccnn-lhs", text: "output[" + r + ", " + c + "] = " }));
      var sum = terms.join(" + ");
      dot.appendChild(document.createTextNode((st.scale === 1 ? sum : "1/" + st.scale + " \u00b7 (" + sum + ")") + " = "));
      dot.appendChild(h("b", { text: fmt(output[r][c], 4) }));
      said.textContent = "output[" + r + ", " + c + "] = " + fmt(output[r][c], 4);
    }

    outCanvas.setAttribute("tabindex", "0");  // arrow keys move the chosen pixel
    outCanvas.addEventListener("keydown", function (ev) {
      var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }, m = moves[ev.key];
      if (!m || !output.length) return;
      ev.preventDefault();
      st.sel = [Math.min(output.length - 1, Math.max(0, st.sel[0] + m[0])), Math.min(output[0].length - 1, Math.max(0, st.sel[1] + m[1]))];
      update();
    });
    outCanvas.addEventListener("click", function (ev) {
      var rect = outCanvas.getBoundingClientRect();
      if (!output.length) return;
      var cell = rect.width / output[0].length;
      var r = Math.floor((ev.clientY - rect.top) / cell), c = Math.floor((ev.clientX - rect.left) / cell);
      if (r >= 0 && c >= 0 && r < output.length && c < output[0].length) { st.sel = [r, c]; update(); }
    });

    root.appendChild(h("div", { class: "ccnn-title", text: "Kernel explorer" }));
    root.appendChild(h("div", { class: "ccnn-controls" }, [imageSel.el, presetSel.el, sizeSel.el, padField.el]));
    root.appendChild(h("div", { class: "ccnn-row" }, [
      h("figure", { class: "ccnn-panel" }, [h("div", { class: "ccnn-head", text: "Input" }), inCanvas, inCap]),
      h("div", { class: "ccnn-op", text: "\u2605" }),
      h("figure", { class: "ccnn-panel" }, [h("div", { class: "ccnn-head", text: "Kernel" }), kernelBox,
        h("div", { class: "ccnn-cap", text: "type any entry: 0.5, -2, 1/9" })]),
      h("div", { class: "ccnn-op", text: "=" }),
      h("figure", { class: "ccnn-panel" }, [h("div", { class: "ccnn-head", text: "Output (click a pixel)" }), outCanvas, outCap]),
    ]));
    root.appendChild(dot);
    root.appendChild(said);
    root.appendChild(msg);
    root.appendChild(explainer(document.createTextNode(
      "Each output pixel is the sum of the kernel's entries times the input pixels under it " +
      "(cross-correlation: the kernel is not flipped), exactly what coursecnn.ref.conv2d and PyTorch compute.")));

    st.kernel = copy2d(kernels[st.preset].values);
    st.size = st.kernel.length;
    buildKernelTable();
    update();
    return {
      kind: "kernel",
      input: function () { return imageData(); },
      kernel: function () { return copy2d(st.kernel); },
      output: function () { return copy2d(output); },
      padding: function () { return st.padding; },
      selected: function () { return st.sel.slice(); },
      dotProduct: function () { return dot.textContent; },
      announcement: function () { return said.textContent; },
      message: function () { return st.message; },
      setPreset: setPreset,
      setImage: function (name) { st.image = name; st.sel = null; update(); },
      setKernel: function (k) { st.kernel = copy2d(k); st.size = k.length; st.preset = "custom"; buildKernelTable(); update(); },
      select: function (r, c) { st.sel = [r, c]; update(); },
    };
  }

  // ------------------------------------------------------------------ arithmetic explorer

  function arithmeticExplorer(root, cfg) {
    var st = { n: cfg.n, f: cfg.f, p: cfg.p, s: cfg.s, d: cfg.d, transposed: !!cfg.transposed, step: 0, timer: null };
    var fields = {};
    function field(key, label, min, max) {
      fields[key] = numberField(key, label, st[key], min, max, function (v) { st[key] = v; st.step = 0; update(); });
      return fields[key].el;
    }
    var trans = h("input", { type: "checkbox", name: "transposed" });
    trans.checked = st.transposed;
    trans.addEventListener("change", function () { st.transposed = trans.checked; st.step = 0; update(); });
    var btn = {};
    function button(key, text, title, fn) { btn[key] = h("button", { type: "button", title: title, text: text, onclick: fn }); return btn[key]; }
    var pic = h("div", { class: "ccnn-svgbox" });
    var formula = h("div", { class: "ccnn-formula" });
    var msg = h("div", { class: "ccnn-message", "aria-live": "polite" });
    var info = h("div", { class: "ccnn-note" });
    var stepLabel = h("span", { class: "ccnn-step" });
    var geo = null;

    // Geometry of what is drawn: the grid the kernel slides over, and the output size.
    function geometry() {
      var n = st.n, f = st.f, p = st.p, sd = st.s, d = st.d;
      if (!st.transposed) {
        var o = outSize(n, f, sd, p, d);
        return { grid: n + 2 * p, pad: p, f: f, d: d, stride: sd, out: o.size, o: o, isInput: function (i) { return i >= p && i < p + n; } };
      }
      // Transposed: a stride-1 convolution over the input with s-1 zeros between pixels and
      // d(f-1)-p zeros around it (the picture in Dumoulin & Visin's guide).
      var inner = (n - 1) * sd + 1, q = d * (f - 1) - p;
      if (q < 0) return { error: "In transposed mode this picture needs padding \u2264 d\u00b7(f \u2212 1) = " + d * (f - 1) + ", got p = " + p + "." };
      var outT = (n - 1) * sd - 2 * p + d * (f - 1) + 1;
      return {
        grid: inner + 2 * q, pad: q, f: f, d: d, stride: 1, out: outT, o: { fits: true, exact: outT, size: outT },
        isInput: function (i) { return i >= q && i < q + inner && (i - q) % sd === 0; },
      };
    }

    function describe() {
      var n = st.n, f = st.f, p = st.p, sd = st.s, d = st.d;
      if (st.transposed) {
        var o = (n - 1) * sd - 2 * p + d * (f - 1) + 1;
        return {
          text: "o = (n \u2212 1)\u00b7s \u2212 2p + d\u00b7(f \u2212 1) + 1 = (" + n + " \u2212 1)\u00b7" + sd + " \u2212 2\u00b7" + p +
            " + " + d + "\u00b7(" + f + " \u2212 1) + 1 = " + o,
          message: o < 1 ? "The output would be empty (size " + o + ")." : "",
        };
      }
      var r = outSize(n, f, sd, p, d);
      var text = "o = (n + 2p \u2212 d\u00b7(f \u2212 1) \u2212 1) / s + 1 = (" + n + " + 2\u00b7" + p + " \u2212 " + d + "\u00b7(" + f +
        " \u2212 1) \u2212 1) / " + sd + " + 1 = " + (r.fits ? String(r.exact) : r.exact2.replace(/0+$/, "").replace(/\.$/, ""));
      var message = "";
      if (r.span < 0)
        message = "The kernel doesn't fit: it spans d\u00b7(f \u2212 1) + 1 = " + r.eff + " pixels, more than the padded input's n + 2p = " + r.padded + ".";
      else if (!r.fits) {
        var left = r.span - (r.size - 1) * sd;
        message = "Stride " + sd + " doesn't fit: (" + n + " + 2\u00b7" + p + " \u2212 " + r.eff + ")/" + sd + " + 1 = " + r.exact2 +
          " is not a whole number. PyTorch (and coursecnn.ref) floor it to " + r.size + ": the last " + left +
          (left === 1 ? " row and column" : " rows and columns") + " of the padded input are never used.";
      }
      return { text: text, message: message };
    }

    function draw() {
      pic.innerHTML = "";
      if (geo.error || geo.out < 1) return;
      var C = Math.max(12, Math.min(28, Math.floor(300 / geo.grid))), gap = 48, G = geo.grid, O = geo.out;
      var oC = Math.max(14, Math.min(28, C));
      var width = G * C + gap + O * oC + 2, height = Math.max(G * C, O * oC) + 24;
      var total = O * O, k = Math.min(st.step, total - 1), r = Math.floor(k / O), c = k % O;
      var r0 = r * geo.stride, c0 = c * geo.stride;
      var svg = s("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
        "aria-label": (st.transposed ? "Stretched, padded input " : "Padded input ") + G + " by " + G + " (" + geo.pad +
          " padding cells on each side), an arrow, and the output " + O + " by " + O + ". The " + geo.f + " by " + geo.f +
          " kernel" + (geo.d > 1 ? " with dilation " + geo.d : "") + " sits at rows " + r0 + " to " + (r0 + geo.d * (geo.f - 1)) +
          ", columns " + c0 + " to " + (c0 + geo.d * (geo.f - 1)) + " of the padded input and makes output (" + r + ", " + c + ")." });
      var used = (O - 1) * geo.stride + geo.d * (geo.f - 1) + 1;  // rows/cols some window reaches
      for (var i = 0; i < G; i++)
        for (var j = 0; j < G; j++) {
          var real = geo.isInput(i) && geo.isInput(j), unused = i >= used || j >= used;
          svg.appendChild(s("rect", {
            x: j * C + 1, y: i * C + 20, width: C - 2, height: C - 2, rx: 2,
            class: real ? (unused ? "ccnn-in ccnn-unused" : "ccnn-in") : (unused ? "ccnn-pad ccnn-unused" : "ccnn-pad"),
          }));
        }
      // the kernel's taps at this step (dilation spreads them out)
      for (var u = 0; u < geo.f; u++)
        for (var v = 0; v < geo.f; v++)
          svg.appendChild(s("rect", { x: (c0 + v * geo.d) * C + 1, y: (r0 + u * geo.d) * C + 20, width: C - 2, height: C - 2, rx: 2, class: "ccnn-tap" }));
      var span = geo.d * (geo.f - 1) + 1;
      svg.appendChild(s("rect", { x: c0 * C, y: r0 * C + 19, width: span * C, height: span * C, class: "ccnn-window" }));
      svg.appendChild(s("text", { x: 0, y: 12, class: "ccnn-svgtext", text: st.transposed ? "stretched, padded input " + G + "\u00d7" + G : "padded input " + G + "\u00d7" + G }));
      var ox = G * C + gap;
      svg.appendChild(s("text", { x: G * C + 12, y: 20 + Math.min(G * C, O * oC) / 2 + 8, class: "ccnn-arrow", text: "\u2192" }));
      svg.appendChild(s("text", { x: ox, y: 12, class: "ccnn-svgtext", text: "output " + O + "\u00d7" + O }));
      for (var a = 0; a < O; a++)
        for (var b = 0; b < O; b++) {
          var idx = a * O + b;
          svg.appendChild(s("rect", {
            x: ox + b * oC + 1, y: a * oC + 20, width: oC - 2, height: oC - 2, rx: 2,
            class: idx === k ? "ccnn-out ccnn-now" : idx < k ? "ccnn-out ccnn-done" : "ccnn-out",
          }));
        }
      pic.appendChild(svg);
      stepLabel.textContent = "window " + (k + 1) + " of " + total + ": output (" + r + ", " + c + ")";
    }

    function stop() { if (st.timer) { clearInterval(st.timer); st.timer = null; btn.play.textContent = "\u25b6 play"; } }

    function update() {
      ["n", "f", "p", "s", "d"].forEach(function (key) { fields[key].input.value = st[key]; });
      trans.checked = st.transposed;
      geo = geometry();
      var dsc = describe();
      formula.textContent = dsc.text;
      st.message = geo.error || dsc.message;
      msg.textContent = st.message;
      msg.className = "ccnn-message" + (geo.error || !geo.o.fits || geo.out < 1 ? " ccnn-warn" : "");
      info.textContent = st.transposed
        ? "A transposed convolution with stride " + st.s + " is drawn as an ordinary stride-1 convolution over the input with " +
          (st.s - 1) + " zero(s) inserted between pixels and d\u00b7(f \u2212 1) \u2212 p = " + (st.d * (st.f - 1) - st.p) + " zero(s) of padding around it (white: input pixels, blue: zeros)."
        : "White: the input, blue: zero padding, orange: the kernel's taps, red: never reached by any window.";
      if (geo.error || geo.out < 1) { stop(); stepLabel.textContent = ""; }
      draw();
    }

    function go(delta) {
      if (geo.error || geo.out < 1) return;
      var total = geo.out * geo.out;
      st.step = ((st.step + delta) % total + total) % total;
      draw();
    }

    root.appendChild(h("div", { class: "ccnn-title", text: "Convolution arithmetic explorer" }));
    root.appendChild(h("div", { class: "ccnn-controls" }, [
      field("n", "input n", 1, 16), field("f", "kernel f", 1, 7), field("p", "padding p", 0, 4),
      field("s", "stride s", 1, 4), field("d", "dilation d", 1, 3),
      h("label", { class: "ccnn-field" }, [trans, " transposed"]),
    ]));
    root.appendChild(h("div", { class: "ccnn-controls" }, [
      button("first", "\u00ab first", "first window", function () { stop(); st.step = 0; draw(); }),
      button("prev", "\u25c0", "previous window", function () { stop(); go(-1); }),
      button("next", "\u25b6", "next window", function () { stop(); go(1); }),
      button("play", "\u25b6 play", "animate the windows", function () {
        if (st.timer) return stop();
        btn.play.textContent = "pause";
        st.timer = setInterval(function () { go(1); }, 600);
      }),
      stepLabel,
    ]));
    root.appendChild(pic);
    root.appendChild(formula);
    root.appendChild(msg);
    root.appendChild(info);
    update();
    return {
      kind: "arithmetic",
      state: function () { return { n: st.n, f: st.f, p: st.p, s: st.s, d: st.d, transposed: st.transposed, step: st.step }; },
      outputSize: function () { return geo.error ? null : Math.max(0, geo.out); },  // 0: no output
      formula: function () { return formula.textContent; },
      message: function () { return st.message; },
      set: function (o) { Object.keys(o).forEach(function (key) { st[key] = o[key]; }); st.step = 0; update(); },
      step: function (i) { st.step = i; draw(); },
    };
  }

  // ------------------------------------------------------------------ pooling explorer

  function poolingExplorer(root, cfg) {
    var st = { input: cfg.input, mode: cfg.mode, k: cfg.k, s: cfg.s, n: cfg.n, sel: [0, 0], dy: null, message: "" };
    var inputs = {};
    Object.keys(cfg.inputs).forEach(function (key) { inputs[key] = { label: cfg.inputs[key].label, data: copy2d(cfg.inputs[key].data) }; });
    var result = null, dx = [], refocus = false;
    var NAMES = { max: "max", avg: "average", nmax: "N-max" };

    var inputSel = selectField("input", "Input", Object.keys(inputs).map(function (k) { return [k, inputs[k].label]; }), st.input,
      function (v) { st.input = v; st.dy = null; update(); });
    var modeSel = selectField("mode", "Pooling", [["max", "max"], ["avg", "average"], ["nmax", "N-max (mean of the n largest)"]], st.mode,
      function (v) { st.mode = v; update(); });
    var kField = numberField("k", "window", st.k, 1, 4, function (v) { st.k = v; st.dy = null; update(); });
    var sField = numberField("s", "stride", st.s, 1, 4, function (v) { st.s = v; st.dy = null; update(); });
    var nField = numberField("n", "n", st.n, 1, 16, function (v) { st.n = v; update(); });
    var shuffle = h("button", { type: "button", text: "new random input", onclick: function () {
      var a = inputs[st.input].data;
      for (var i = 0; i < a.length; i++) for (var j = 0; j < a[0].length; j++) a[i][j] = Math.floor(Math.random() * 10);
      update();
    } });
    var fwd = h("div", { class: "ccnn-row" }), bwd = h("div", { class: "ccnn-row" });
    var say = h("div", { class: "ccnn-dot", "aria-live": "polite" }), sayBack = h("div", { class: "ccnn-dot" });
    var msg = h("div", { class: "ccnn-message" });

    function table(a, cls, cellFn) {
      var t = h("table", { class: "ccnn-grid " + (cls || "") });
      a.forEach(function (row, i) {
        var tr = h("tr");
        row.forEach(function (v, j) { tr.appendChild(cellFn(v, i, j)); });
        t.appendChild(tr);
      });
      return t;
    }

    function panel(title, body, cap) {
      return h("figure", { class: "ccnn-panel" }, [h("div", { class: "ccnn-head", text: title }), body, cap ? h("div", { class: "ccnn-cap", text: cap }) : null]);
    }

    function update() {
      var x = inputs[st.input].data, k = st.k, sd = st.s, H = x.length, W = x[0].length;
      inputSel.input.value = st.input; modeSel.input.value = st.mode;
      kField.input.value = k; sField.input.value = sd; nField.input.value = st.n;
      nField.el.style.display = st.mode === "nmax" ? "" : "none";
      shuffle.style.display = st.input === "random" ? "" : "none";
      fwd.innerHTML = ""; bwd.innerHTML = ""; say.textContent = ""; sayBack.textContent = "";
      var note = poolNote(H, W, k, sd);
      st.message = note.warn ? note.text : "";
      if (!st.message && st.mode === "nmax" && st.n > k * k) st.message = "n = " + st.n + " is more than the " + k * k + " values in a " + k + "\u00d7" + k + " window.";
      if (st.message) { msg.textContent = st.message; msg.className = "ccnn-message ccnn-warn"; result = null; dx = []; return; }
      result = pool2d(x, k, sd, st.mode, st.n);
      var out = result.out, oh = out.length, ow = out[0].length;
      msg.className = "ccnn-message";
      msg.textContent = note.text;
      if (!st.dy || st.dy.length !== oh || st.dy[0].length !== ow) st.dy = zeros(oh, ow).map(function (r) { return r.map(function () { return 1; }); });
      if (st.sel[0] >= oh || st.sel[1] >= ow) st.sel = [0, 0];
      dx = zeros(H, W);
      result.routes.forEach(function (row, a) {
        row.forEach(function (rt, b) { rt.picked.forEach(function (e) { dx[e.i][e.j] += st.dy[a][b] * e.w; }); });
      });
      var route = result.routes[st.sel[0]][st.sel[1]];
      var inWin = {}, picked = {};
      route.cells.forEach(function (e) { inWin[e.i + "," + e.j] = true; });
      route.picked.forEach(function (e) { picked[e.i + "," + e.j] = true; });
      // each output is a button (Tab reaches it, Enter or Space picks it); focus stays on the pick
      function pick(i, j) { return function () { st.sel = [i, j]; refocus = true; update(); }; }

      fwd.appendChild(panel("Input x", table(x, "", function (v, i, j) {
        var key = i + "," + j;
        return h("td", { class: (inWin[key] ? "ccnn-win " : "") + (picked[key] ? "ccnn-picked" : ""), text: fmt(v, 3) });
      }), H + "\u00d7" + W + "; orange: the chosen window, filled: " + (st.mode === "max" ? "the switch (argmax)" : st.mode === "avg" ? "every input is used" : "the n largest")));
      fwd.appendChild(h("div", { class: "ccnn-op", text: "\u2192" }));
      fwd.appendChild(panel(NAMES[st.mode] + " pooling, output y", table(out, "ccnn-clickable", function (v, i, j) {
        var now = i === st.sel[0] && j === st.sel[1];
        return h("td", { class: now ? "ccnn-now" : "" }, [h("button", {
          type: "button", class: "ccnn-cellbtn", text: fmt(v, 3), onclick: pick(i, j), "data-i": i, "data-j": j,
          "aria-pressed": now ? "true" : "false", "aria-label": "y[" + i + ", " + j + "] = " + fmt(v, 3) + ": show its window",
          title: "click (or Enter) to see where it came from" })]);
      }), oh + "\u00d7" + ow + "; click a cell"));

      bwd.appendChild(panel("Upstream gradient dy (edit)", table(st.dy, "", function (v, i, j) {
        var inp = h("input", { type: "text", inputmode: "decimal", value: fmt(v, 4), "aria-label": "dy[" + i + ", " + j + "]" });
        inp.addEventListener("change", function () {
          var val = parseEntry(inp.value);
          if (isFinite(val)) { st.dy[i][j] = val; st.sel = [i, j]; update(); }
        });
        return h("td", { class: i === st.sel[0] && j === st.sel[1] ? "ccnn-now" : "" }, [inp]);
      })));
      bwd.appendChild(h("div", { class: "ccnn-op", text: "\u2192" }));
      bwd.appendChild(panel("Gradient routed back, dx", table(dx, "", function (v, i, j) {
        var key = i + "," + j;
        return h("td", { class: (picked[key] ? "ccnn-picked " : "") + (v !== 0 ? "ccnn-nonzero" : ""), text: fmt(v, 3) });
      }), st.mode === "max" ? "only the switches receive gradient" : st.mode === "avg" ? "every input receives dy/" + k * k : "each of the n largest receives dy/n"));

      var vals = route.cells.map(function (e) { return fmt(e.x, 3); }).join(", ");
      var y = "y[" + st.sel[0] + ", " + st.sel[1] + "] = ", v = fmt(out[st.sel[0]][st.sel[1]], 4);
      var dyv = fmt(st.dy[st.sel[0]][st.sel[1]], 4);
      if (st.mode === "max") {
        var e = route.picked[0];
        say.textContent = y + "max(" + vals + ") = " + v + "; the switch remembers input (" + e.i + ", " + e.j + ").";
        sayBack.textContent = "Backward: dx[" + e.i + ", " + e.j + "] += dy = " + dyv + "; the other " + (k * k - 1) + " inputs of the window get 0.";
      } else if (st.mode === "avg") {
        say.textContent = y + "(" + vals.replace(/, /g, " + ") + ") / " + k * k + " = " + v;
        sayBack.textContent = "Backward: each of the " + k * k + " inputs gets dy / " + k * k + " = " + fmt(st.dy[st.sel[0]][st.sel[1]] / (k * k), 4) + ".";
      } else {
        say.textContent = y + "mean of the " + st.n + " largest of (" + vals + ") = (" +
          route.picked.map(function (e) { return fmt(e.x, 3); }).join(" + ") + ") / " + st.n + " = " + v;
        sayBack.textContent = "Backward: each of those " + st.n + " inputs gets dy / " + st.n + " = " + fmt(st.dy[st.sel[0]][st.sel[1]] / st.n, 4) +
          " (ties go to the first in reading order).";
      }
      if (refocus) {
        refocus = false;
        var b = fwd.querySelector("button[data-i='" + st.sel[0] + "'][data-j='" + st.sel[1] + "']");
        if (b) b.focus();
      }
      if (k > sd) sayBack.textContent += " Windows overlap (window > stride), so an input can collect gradient from several outputs: the contributions add up.";
    }

    root.appendChild(h("div", { class: "ccnn-title", text: "Pooling explorer" }));
    root.appendChild(h("div", { class: "ccnn-controls" }, [inputSel.el, modeSel.el, kField.el, sField.el, nField.el, shuffle]));
    root.appendChild(h("div", { class: "ccnn-sub", text: "Forward" }));
    root.appendChild(fwd);
    root.appendChild(say);
    root.appendChild(msg);
    root.appendChild(h("div", { class: "ccnn-sub", text: "Backward" }));
    root.appendChild(bwd);
    root.appendChild(sayBack);
    update();
    return {
      kind: "pooling",
      input: function () { return copy2d(inputs[st.input].data); },
      output: function () { return result ? copy2d(result.out) : []; },
      gradInput: function () { return copy2d(dx); },
      dy: function () { return copy2d(st.dy || []); },
      message: function () { return st.message; },
      explanation: function () { return say.textContent + " " + sayBack.textContent; },
      set: function (o) { Object.keys(o).forEach(function (key) { st[key] = o[key]; }); st.dy = o.dy ? copy2d(o.dy) : null; update(); },
      select: function (r, c) { st.sel = [r, c]; update(); },
    };
  }

  // ------------------------------------------------------------------ mounting

  var KINDS = { kernel: kernelExplorer, arithmetic: arithmeticExplorer, pooling: poolingExplorer };

  function mount(root) {
    if (!root || root.ccnn || !root.classList || !root.classList.contains("ccnn-explorer")) return;
    var make = KINDS[root.getAttribute("data-kind")];
    root.innerHTML = "";
    try {
      if (!make) throw new Error("unknown explorer kind " + JSON.stringify(root.getAttribute("data-kind")));
      root.ccnn = make(root, JSON.parse(root.getAttribute("data-config") || "{}"));
      root.setAttribute("data-ready", "true");
    } catch (err) {
      root.ccnn = { error: String(err) };
      root.appendChild(h("div", { class: "ccnn-message ccnn-warn", text: "This explorer failed to start: " + err }));
      if (window.console) console.error(err);
    }
  }

  function scan() { Array.prototype.forEach.call(document.querySelectorAll(".ccnn-explorer"), mount); }

  window.coursecnnExplorers = {
    scan: scan, mount: mount, conv2d: conv2d, pool2d: pool2d, outSize: outSize, poolNote: poolNote, fmt: fmt,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
  else scan();
})();
