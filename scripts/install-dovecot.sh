#!/usr/bin/env bash
# Installs Dovecot's IMAP server, test-only: the IMAP reply tests start their own private Dovecot
# (test/helpers/dovecot.ts: generated config, loopback port, temp dir) and never use a system service.
# Idempotent. The package must not leave a system dovecot running: while apt-get installs it, a
# policy-rc.d that refuses service starts is in place (one already present is left as it is), and no
# systemd is needed.
set -euo pipefail
DOVECOT="${PREFLINE_DOVECOT:-/usr/sbin/dovecot}"

if "$DOVECOT" --version >/dev/null 2>&1 && [[ -x /usr/lib/dovecot/imap ]]; then
  echo "Dovecot already installed: $("$DOVECOT" --version) ($DOVECOT)"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "error: Dovecot not found at $DOVECOT and not root (no sudo) to apt-get install dovecot-imapd." >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: Dovecot not found at $DOVECOT and apt-get is unavailable; install Dovecot (imapd) and set PREFLINE_DOVECOT." >&2
  exit 1
fi

POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
if [[ ! -e "$POLICY" ]]; then
  # Debian's invoke-rc.d asks this script before starting a service; 101 = "not allowed".
  printf '#!/bin/sh\n# Temporary (scripts/install-dovecot.sh): no service starts while installing.\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  OWN_POLICY=1
fi
cleanup() {
  if [[ "$OWN_POLICY" == 1 ]]; then "${SUDO[@]}" rm -f "$POLICY"; fi
}
trap cleanup EXIT

echo "Installing dovecot-imapd with apt-get…"
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd

# The package enables a system service for the next boot, and a service manager may have started one
# anyway: disable and stop it. Only the tests' private instances are wanted.
if command -v systemctl >/dev/null 2>&1; then
  "${SUDO[@]}" systemctl disable dovecot.service dovecot.socket >/dev/null 2>&1 || true
  if [[ -d /run/systemd/system ]]; then "${SUDO[@]}" systemctl stop dovecot.service dovecot.socket >/dev/null 2>&1 || true; fi
fi
if [[ -f /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  "${SUDO[@]}" "$DOVECOT" stop >/dev/null 2>&1 || true
fi

if ! "$DOVECOT" --version >/dev/null 2>&1; then
  echo "error: apt-get installed dovecot-imapd, but $DOVECOT --version does not run (set PREFLINE_DOVECOT?)." >&2
  exit 1
fi
echo "Dovecot ready: $("$DOVECOT" --version)"
