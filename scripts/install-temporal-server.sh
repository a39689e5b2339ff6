#!/usr/bin/env bash
# Installs what a real (non-dev) Temporal cluster needs, for the cluster tests (test/helpers/temporal-cluster.ts):
# - the Temporal Server v1.29.1 and its schema tool, built with `go install` into <repo>/.tools/bin as
#   temporal-server and temporal-sql-tool (v1.29.1 is the server inside CLI v1.5.1, see install-temporal.sh);
# - PostgreSQL 15's server binaries (/usr/lib/postgresql/15/bin), from apt-get if missing;
# - openssl (the tests make a private CA and certificates).
# Idempotent. No system PostgreSQL is left running: the tests start private instances as a non-root user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
BIN_DIR="$ROOT/.tools/bin"
VERSION=v1.29.1
PG_BIN="${PREFLINE_PG_BIN:-/usr/lib/postgresql/15/bin}"

installed() { # <binary>: true when it runs and reports $VERSION
  [[ -x "$1" ]] && "$1" --version 2>/dev/null | grep -q "version ${VERSION#v}\$"
}

ensure_go() {
  if command -v go >/dev/null 2>&1; then return; fi
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH="$PATH:/usr/local/go/bin"
  else
    echo "error: Go not found (neither on PATH nor at /usr/local/go/bin)." >&2
    echo "Install Go >= 1.25 from https://go.dev/dl/ (Debian's golang-go is too old), then re-run $0." >&2
    exit 1
  fi
}

# go install names a binary after its package folder (`server`, `sql`): build into a scratch GOBIN
# and give them names that say what they are.
build() { # <package> <name>
  local target="$BIN_DIR/$2"
  if installed "$target"; then
    echo "$2 already installed: $("$target" --version) at .tools/bin/$2"
    return
  fi
  ensure_go
  local scratch
  scratch="$(mktemp -d)"
  echo "Building $2 ($1@$VERSION) with go install (a few minutes on a fresh machine)…"
  GOBIN="$scratch" go install "$1@$VERSION"
  mkdir -p "$BIN_DIR"
  mv "$scratch/$(basename "$1")" "$target"
  rm -rf "$scratch"
  installed "$target" || { echo "error: $target does not report version ${VERSION#v}" >&2; exit 1; }
  echo "$2 ready: $("$target" --version) at .tools/bin/$2"
}

build go.temporal.io/server/cmd/server temporal-server
build go.temporal.io/server/cmd/tools/sql temporal-sql-tool

# The cluster tests read the SQL schemas and config templates from the server module's source.
ensure_go
MODULE_DIR="$(go env GOMODCACHE)/go.temporal.io/server@$VERSION"
if [[ ! -d "$MODULE_DIR/schema/postgresql/v12" ]]; then
  echo "Downloading the source of go.temporal.io/server@$VERSION (schemas, config templates)…"
  go mod download "go.temporal.io/server@$VERSION"
fi

PACKAGES=()
if [[ -x "$PG_BIN/postgres" && -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_isready" && -x "$PG_BIN/psql" ]]; then
  echo "PostgreSQL already installed: $("$PG_BIN/postgres" --version) ($PG_BIN)"
else
  PACKAGES+=(postgresql-15)
fi
if command -v openssl >/dev/null 2>&1; then
  echo "openssl already installed"
else
  PACKAGES+=(openssl)
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi

if [[ ${#PACKAGES[@]} -gt 0 ]]; then
  if [[ "$(id -u)" -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
    echo "error: ${PACKAGES[*]} missing and not root (no sudo) to apt-get install them." >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: ${PACKAGES[*]} missing and apt-get is unavailable; install PostgreSQL 15 (set PREFLINE_PG_BIN to its bin folder) and openssl." >&2
    exit 1
  fi

  POLICY=/usr/sbin/policy-rc.d
  OWN_POLICY=0
  if [[ ! -e "$POLICY" ]]; then
    # Debian's invoke-rc.d asks this script before starting a service; 101 = "not allowed". The
    # package would otherwise start the cluster it creates.
    printf '#!/bin/sh\n# Temporary (scripts/install-temporal-server.sh): no service starts while installing.\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    OWN_POLICY=1
  fi
  cleanup() {
    if [[ "$OWN_POLICY" == 1 ]]; then "${SUDO[@]}" rm -f "$POLICY"; fi
  }
  trap cleanup EXIT

  echo "Installing ${PACKAGES[*]} with apt-get…"
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"

  # Only the tests' private instances are wanted: no system service, now or at the next boot.
  if command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl disable postgresql.service >/dev/null 2>&1 || true
    if [[ -d /run/systemd/system ]]; then "${SUDO[@]}" systemctl stop postgresql.service >/dev/null 2>&1 || true; fi
  fi

  if ! "$PG_BIN/postgres" --version >/dev/null 2>&1; then
    echo "error: apt-get installed postgresql-15, but $PG_BIN/postgres --version does not run (set PREFLINE_PG_BIN?)." >&2
    exit 1
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    echo "error: apt-get installed openssl, but it is not on PATH." >&2
    exit 1
  fi
  echo "PostgreSQL ready: $("$PG_BIN/postgres" --version)"
fi

# PostgreSQL refuses to run as root: as root, the tests run it as the `postgres` user (the Debian
# package creates it; a PostgreSQL from elsewhere may not have).
if [[ "$(id -u)" -eq 0 ]] && ! getent passwd postgres >/dev/null; then
  echo "Creating the system user postgres (PostgreSQL will not run as root)…"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
fi
