#!/usr/bin/env bash
# Re-create constraints.txt, the lock of the book and test toolchain: a fresh virtual environment
# gets the newest releases that pyproject.toml allows, and pip freeze writes down every version.
# Run it (`make lock`) to upgrade on purpose, then `make test`, and commit constraints.txt.
# `make install` and `make book` install exactly these versions (tools/install.sh passes -c).
set -euo pipefail
py=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]"
{
  echo "# The book and test toolchain, pinned (pip constraints). Made by tools/lock.sh (make lock)"
  echo "# with $("$tmp/venv/bin/python" --version) on $(uname -sm); upgrade: make lock && make test."
  # Local version labels (torch's +cpu) are dropped: ==2.13.0 matches every build of 2.13.0.
  "$tmp/venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check |
    grep -v -i -E '^(coursecnn|-e )' | sed -E 's/\+[A-Za-z0-9.]+$//' | LC_ALL=C sort -f
} > constraints.txt.new
grep -q '^torch==2.13.0$' constraints.txt.new || { echo "error: the lock lost torch==2.13.0" >&2; exit 1; }
mv constraints.txt.new constraints.txt
echo "wrote constraints.txt ($(grep -c '==' constraints.txt) packages)"
