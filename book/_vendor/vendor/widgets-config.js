// Loaded before the ipywidgets HTML manager (see nb_ipywidgets_js in _config.yml). The manager
// finds its fonts relative to the AMD path of its own module; point that path at the vendored
// copy beside this file so nothing is requested from the server root or a CDN. Works whether
// require.js is already loaded (require.config) or not (a global `require` is its config).
(function () {
  var src = document.currentScript.src;
  var base = src.slice(0, src.lastIndexOf("/") + 1);
  var config = { paths: { "@jupyter-widgets/html-manager/dist": base + "html-manager" } };
  if (typeof window.require === "function" && window.require.config) {
    window.require.config(config);
  } else {
    window.require = config;
  }
})();
