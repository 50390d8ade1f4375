#!/usr/bin/env bash
# Create .venv when missing and install coursecnn with everything the book and the tests need.
# A marker file is written last: a .venv without it (an interrupted install) is never trusted,
# it is removed and built again.
set -euo pipefail
VENV=${VENV:-.venv}
# Which extra of pyproject.toml: dev (everything; the default) or lab (what `make lab` needs).
EXTRAS=${EXTRAS:-dev}
MARKER="$VENV/.coursecnn-install-ok"
# constraints.txt is the lock (tools/lock.sh): a changed lock reinstalls, like a changed dependency list.
want=$(cat pyproject.toml environment.yml constraints.txt | sha256sum | cut -c1-16)

# The marker holds the hash, then the extra installed ("HASH dev"; a bare hash is a dev install).
# A dev install has everything a lab install needs.
if [ -f "$MARKER" ] && [ -x "$VENV/bin/python" ]; then
  have=$(cat "$MARKER")
  if [ "$have" = "$want $EXTRAS" ] || [ "$have" = "$want dev" ] || [ "$have" = "$want" ]; then
    exit 0
  fi
fi

# Find a Python 3.10 or newer.
py=""
for cand in ${PYTHON:-} python3 python3.12 python3.11 python3.10 python; do
  if command -v "$cand" >/dev/null 2>&1 &&
     "$cand" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
    py=$cand; break
  fi
done
if [ -z "$py" ]; then
  echo "error: coursecnn needs Python 3.10 or newer with the venv module; none was found on PATH." >&2
  echo "       Install one (for example 'apt-get install python3 python3-venv') or set PYTHON=/path/to/python3." >&2
  exit 1
fi

if [ ! -f "$MARKER" ]; then
  # No marker: a fresh machine or an interrupted install. Start from nothing.
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV with $py ($("$py" --version 2>&1))"
  "$py" -m venv "$VENV" || { echo "error: '$py -m venv $VENV' failed; install the venv module (python3-venv)." >&2; exit 1; }
fi
rm -f "$MARKER"
echo "installing coursecnn and its dependencies into $VENV (the versions pinned in constraints.txt)"
if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]" -c constraints.txt; then
  echo "error: installing the dependencies into $VENV failed (see pip's message above)." >&2
  echo "       Check the network or your package index; then run the command again." >&2
  exit 1
fi
echo "$want $EXTRAS" > "$MARKER"
echo "installed: $("$VENV/bin/python" -c 'import coursecnn, torch; print("coursecnn", coursecnn.__version__, "torch", torch.__version__)')"
