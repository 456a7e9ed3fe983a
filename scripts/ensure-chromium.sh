#!/usr/bin/env bash
# Make sure headless Chromium is installed for the browser test
# (bff/test/graphiql-browser.test.ts drives /usr/bin/chromium through
# playwright-core, which cannot download browsers of its own here).
# Installs Debian's `chromium` when it is missing: apt-get update once,
# noninteractive, no recommended packages, root or `sudo -n`. Never reads stdin.
# SKIP_CHROMIUM=1 skips the step (the test then fails under CI=true and skips
# with a message otherwise).
set -euo pipefail
exec </dev/null

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
log() { printf '[chromium] %s\n' "$*" >&2; }
die() { printf '[chromium] ERROR: %s\n' "$*" >&2; exit 1; }

if [ -n "${SKIP_CHROMIUM:-}" ]; then log "skipped (SKIP_CHROMIUM set)"; exit 0; fi
if [ -x "$CHROMIUM" ]; then log "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") present"; exit 0; fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root to run: $*"
  fi
}

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install Chromium yourself and set CHROMIUM_PATH"
t0=$SECONDS
log "$CHROMIUM missing: apt-get update"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
log "apt-get install -y --no-install-recommends chromium"
# dpkg's progress lines go to a log, shown only when the install fails.
apt_log="$(mktemp)"
trap 'rm -f "$apt_log"' EXIT
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold chromium >"$apt_log" 2>&1 ||
  { tail -n 30 "$apt_log" >&2; die "apt-get install chromium failed"; }
[ -x "$CHROMIUM" ] || die "chromium installed but $CHROMIUM is not there; set CHROMIUM_PATH"
log "installed $("$CHROMIUM" --version 2>/dev/null) in $((SECONDS - t0))s"
