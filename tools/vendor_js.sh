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
# MathJax as separate components that _config.yml's mathjax3_config names for the loader in
# startup.js: TeX input, HTML output (CHTML) and the hidden MathML for screen readers. About 0.9 MB
# with the fonts a page uses, where the one-file SVG build (tex-svg.js) is 2.1 MB: its font is
# 1 MB of glyph paths, and its context menu 0.4 MB. The TeX extensions and the CHTML web fonts are
# loaded on demand (\boldsymbol, a large sum sign, ...).
es5="$tmp/mathjax-$MATHJAX/package/es5"
mkdir -p "$dest/mathjax/output/chtml/fonts" "$dest/mathjax/a11y"
cp "$es5/startup.js" "$es5/core.js" "$tmp/mathjax-$MATHJAX/package/LICENSE" "$dest/mathjax/"
cp "$es5/input/tex.js" "$dest/mathjax/input/"
cp -r "$es5/input/tex" "$dest/mathjax/input/"
cp "$es5/output/chtml.js" "$dest/mathjax/output/"
cp "$es5/output/chtml/fonts/tex.js" "$dest/mathjax/output/chtml/fonts/"
cp -r "$es5/output/chtml/fonts/woff-v2" "$dest/mathjax/output/chtml/fonts/"
cp "$es5/a11y/assistive-mml.js" "$dest/mathjax/a11y/"
cp "$tmp/requirejs-$REQUIREJS/package/require.js" "$dest/"
(cd "$tmp/jupyter-widgets-html-manager-$HTML_MANAGER/package/dist" &&
  cp embed-amd.js embed.js.LICENSE.txt ./*.woff ./*.woff2 ./*.ttf ./*.eot ./*.svg "$OLDPWD/$dest/html-manager/")
echo "vendored into $dest"
