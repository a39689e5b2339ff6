#!/usr/bin/env bash
# Installs the test-only system tools: Chromium (rating-page and report tests, driven headless by
# playwright-core) and the zstd CLI (an independent decoder the release tests read parquet pages with).
# Idempotent.
set -euo pipefail
CHROMIUM="${PREFLINE_CHROMIUM:-/usr/bin/chromium}"

PACKAGES=()
if "$CHROMIUM" --version >/dev/null 2>&1; then
  echo "Chromium already installed: $("$CHROMIUM" --version 2>/dev/null) ($CHROMIUM)"
else
  PACKAGES+=(chromium)
fi
if command -v zstd >/dev/null 2>&1; then
  echo "zstd already installed"
else
  PACKAGES+=(zstd)
fi
if [[ ${#PACKAGES[@]} -eq 0 ]]; then
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

echo "Installing ${PACKAGES[*]} with apt-get…"
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"

if ! "$CHROMIUM" --version >/dev/null 2>&1; then
  echo "error: apt-get installed chromium, but $CHROMIUM --version does not run (set PREFLINE_CHROMIUM?)." >&2
  exit 1
fi
echo "Chromium ready: $("$CHROMIUM" --version 2>/dev/null)"
