// Loaded before the ipywidgets HTML manager (see nb_ipywidgets_js in _config.yml).
(function () {
  // The manager finds its fonts relative to the AMD path of its own module; point that path at
  // the vendored copy beside this file so nothing is requested from the server root or a CDN.
  // Works whether require.js is already loaded (require.config) or not (a global `require` is
  // its config).
  var src = document.currentScript.src;
  var base = src.slice(0, src.lastIndexOf("/") + 1);
  var config = { paths: { "@jupyter-widgets/html-manager/dist": base + "html-manager" } };
  if (typeof window.require === "function" && window.require.config) {
    window.require.config(config);
  } else {
    window.require = config;
  }

  // The manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; the book loads
  // MathJax 3, which has no Hub. Give whatever object window.MathJax holds (the config object
  // first, then MathJax itself when it loads) a Hub whose Queue asks MathJax 3 to typeset.
  function typeset(element) {
    var mj = window.MathJax;
    if (mj && mj.typesetPromise) {
      mj.typesetPromise([element]).catch(function () {});
    } else if (mj && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(function () { typeset(element); });
    }
    // Otherwise MathJax has not started: its first pass typesets the whole page anyway.
  }
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) typeset(job[2]);
      }
    },
  };
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      try {
        Object.defineProperty(mj, "Hub", { value: hub, enumerable: false, configurable: true });
      } catch (e) {}
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  try {
    Object.defineProperty(window, "MathJax", {
      configurable: true,
      get: function () { return current; },
      set: function (value) { current = withHub(value); },
    });
  } catch (e) {}
})();
