#!/usr/bin/env bash
# Re-create book/_vendor/vendor from the npm registry (the files are committed, so nobody needs
# to run this unless a version changes). The book then loads MathJax, require.js and the
# ipywidgets HTML manager from its own _static folder and works with no network.
set -euo pipefail
MATHJAX=3.2.2
REQUIREJS=2.3.8
HTML_MANAGER=1.0.15
dest=book/_vendor/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v npm >/dev/null || { echo "error: npm is needed to re-vendor the JavaScript (apt-get install npm)" >&2; exit 1; }
(cd "$tmp" && npm pack -q "mathjax@$MATHJAX" "requirejs@$REQUIREJS" "@jupyter-widgets/html-manager@$HTML_MANAGER" >/dev/null)
for f in "$tmp"/*.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
find "$dest" -mindepth 1 ! -name widgets-config.js -delete 2>/dev/null || true
mkdir -p "$dest/mathjax/input" "$dest/html-manager"
# SVG output needs no web fonts; the TeX extensions are loaded on demand (\boldsymbol, ...).
cp "$tmp/mathjax-$MATHJAX/package/es5/tex-svg.js" "$tmp/mathjax-$MATHJAX/package/LICENSE" "$dest/mathjax/"
cp -r "$tmp/mathjax-$MATHJAX/package/es5/input/tex" "$dest/mathjax/input/"
cp "$tmp/requirejs-$REQUIREJS/package/require.js" "$dest/"
(cd "$tmp/jupyter-widgets-html-manager-$HTML_MANAGER/package/dist" &&
  cp embed-amd.js embed.js.LICENSE.txt ./*.woff ./*.woff2 ./*.ttf ./*.eot ./*.svg "$OLDPWD/$dest/html-manager/")
echo "vendored into $dest"
