#!/usr/bin/env bash
# Builds the Temporal CLI v1.5.1 (dev server = Temporal Server 1.29.1) into <repo>/.tools/bin.
# Idempotent. v1.5.1 is pinned: later tags carry a go.mod `replace` and won't `go install`,
# and Temporal's binary download isn't reachable from the project's machines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
BIN="$ROOT/.tools/bin/temporal"
VERSION=v1.5.1
SERVER="Server 1.29.1"

if [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | grep -q "$SERVER"; then
  echo "Temporal CLI already installed: $("$BIN" --version) at .tools/bin/temporal"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH="$PATH:/usr/local/go/bin"
  else
    echo "error: Go not found (neither on PATH nor at /usr/local/go/bin)." >&2
    echo "Install Go >= 1.25 from https://go.dev/dl/ (Debian's golang-go is too old), then re-run $0." >&2
    exit 1
  fi
fi

echo "Building the Temporal CLI $VERSION from source with go install (this takes a few minutes on a fresh machine)…"
mkdir -p "$ROOT/.tools/bin"
GOBIN="$ROOT/.tools/bin" go install "github.com/temporalio/cli/cmd/temporal@$VERSION"
echo "Temporal CLI ready: $("$BIN" --version) at .tools/bin/temporal"
