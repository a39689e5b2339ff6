#!/usr/bin/env bash
# Installs Chromium (used headless by the rating-page tests through playwright-core). Idempotent.
set -euo pipefail
CHROMIUM="${PREFLINE_CHROMIUM:-/usr/bin/chromium}"

if "$CHROMIUM" --version >/dev/null 2>&1; then
  echo "Chromium already installed: $("$CHROMIUM" --version 2>/dev/null) ($CHROMIUM)"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "error: Chromium not found at $CHROMIUM and not root (no sudo) to apt-get install it." >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: Chromium not found at $CHROMIUM and apt-get is unavailable; install Chromium and set PREFLINE_CHROMIUM." >&2
  exit 1
fi

echo "Installing Chromium with apt-get…"
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

if ! "$CHROMIUM" --version >/dev/null 2>&1; then
  echo "error: apt-get installed chromium, but $CHROMIUM --version does not run (set PREFLINE_CHROMIUM?)." >&2
  exit 1
fi
echo "Chromium ready: $("$CHROMIUM" --version 2>/dev/null)"
