#!/usr/bin/env bash
# Grading runs student code under bubblewrap; the grading tests prove the sandbox with attack
# notebooks. Install it when it is missing, then check that it can create its namespaces here.
# Where no sandbox can be had, the tests that need one are skipped (pytest names them and why);
# set COURSECNN_REQUIRE_SANDBOX=1 to make that an error instead.
set -uo pipefail
fail() {
  if [ "${COURSECNN_REQUIRE_SANDBOX:-0}" = 1 ]; then echo "error: $*" >&2; exit 1; fi
  echo "WARNING: $* The sandbox tests will be skipped." >&2
  exit 0
}
if ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing bubblewrap (Debian package 'bubblewrap') for the grading sandbox"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; } ||
      fail "installing bubblewrap with apt-get failed."
  else
    fail "grading needs bubblewrap. Install it (Debian/Ubuntu: 'sudo apt-get install bubblewrap')."
  fi
fi
if ! bwrap --unshare-all --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
     --symlink usr/bin /bin --proc /proc --dev /dev /bin/true 2>/dev/null; then
  fail "bubblewrap is installed but cannot create a sandbox here (user namespaces disabled? check
       'sysctl kernel.unprivileged_userns_clone' / 'kernel.apparmor_restrict_unprivileged_userns')."
fi
