#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install redsearcher with the given extras.
# Idempotent: re-running only installs what changed. Usage: scripts/bootstrap.sh [extras]
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-server}"

# System packages the project uses (the sandbox of later issues needs bubblewrap; the `dev`
# extra's browser test of the trajectory viewer needs Debian's chromium at /usr/bin/chromium).
apt_pkgs=()
command -v bwrap >/dev/null 2>&1 || apt_pkgs+=(bubblewrap)
case ",${extras}," in
  *,dev,*) [ -x /usr/bin/chromium ] || apt_pkgs+=(chromium) ;;
esac
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_pkgs[@]}" >/dev/null) \
      || echo "bootstrap: could not install ${apt_pkgs[*]}; continuing without" >&2
  else
    echo "bootstrap: please install: ${apt_pkgs[*]} (apt-get install ${apt_pkgs[*]})" >&2
  fi
fi

py=""
for cand in python3.13 python3.12 python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" 2>/dev/null -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    py="$cand"; break
  fi
done
[ -n "$py" ] || { echo "bootstrap: Python >= 3.11 is required" >&2; exit 1; }

[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[${extras}]"
  touch "$stamp"
fi
