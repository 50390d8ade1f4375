#!/usr/bin/env bash
# The browser check drives Debian's Chromium headless; install it when it is missing.
set -euo pipefail
if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing Chromium (Debian package 'chromium') for the browser check"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "error: the browser check needs Chromium. Install it (Debian: 'sudo apt-get install chromium')" >&2
echo "       or point CHROMIUM=/path/to/chromium at one." >&2
exit 1
