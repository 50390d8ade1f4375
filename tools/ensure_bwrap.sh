#!/usr/bin/env bash
# Grading runs student code under bubblewrap; the grading tests prove the sandbox with attack
# notebooks. Install it when it is missing, then check that it can create its namespaces here.
set -euo pipefail
if ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing bubblewrap (Debian package 'bubblewrap') for the grading sandbox"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "error: grading needs bubblewrap. Install it (Debian/Ubuntu: 'sudo apt-get install bubblewrap')." >&2
    exit 1
  fi
fi
if ! bwrap --unshare-all --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
     --symlink usr/bin /bin --proc /proc --dev /dev /bin/true 2>/dev/null; then
  echo "error: bubblewrap is installed but cannot create a sandbox here (user namespaces disabled?" >&2
  echo "       check 'sysctl kernel.unprivileged_userns_clone' / 'kernel.apparmor_restrict_unprivileged_userns')." >&2
  exit 1
fi
