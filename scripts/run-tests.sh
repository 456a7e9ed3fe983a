#!/usr/bin/env bash
# The whole test suite (`make test`, after install and build): mocha over the
# compiled tests chosen by .mocharc.cjs (common, svc-identity, svc-billing, svc-insights, worker, bff), spec
# reporter ("N passing"). The run's whole output must hold no secret-shaped
# string (JWT, API key secret, invitation code, private key). Each run gets its
# own TEST_RUN_ID and Redis key prefix (REDIS_KEY_PREFIX=apgms-test-<id>:); tests create their own databases.
# Redis keys under a prefix made here are deleted afterwards (best effort).
set -euo pipefail
cd "$(dirname "$0")/.."
exec </dev/null

generated_prefix=0
if [ -z "${TEST_RUN_ID:-}" ]; then
  TEST_RUN_ID="$(date -u +%Y%m%d%H%M%S)-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
fi
if [ -z "${REDIS_KEY_PREFIX:-}" ]; then
  REDIS_KEY_PREFIX="apgms-test-${TEST_RUN_ID}:"
  generated_prefix=1
fi
export TEST_RUN_ID REDIS_KEY_PREFIX
# NATS streams and subjects of this run only (tests add their own suffixes); deleted afterwards.
NATS_PREFIX="t-${TEST_RUN_ID}"
export NATS_PREFIX
echo "[test] TEST_RUN_ID=$TEST_RUN_ID REDIS_KEY_PREFIX=$REDIS_KEY_PREFIX" >&2

# The whole run's output is kept and checked for anything shaped like a secret
# (scripts/check-log-secrets.mjs); it is deleted afterwards unless that check fails.
run_log="${TMPDIR:-/tmp}/apgms-test-${TEST_RUN_ID}.log"
set +e
npx --no -- mocha --timeout 30000 --exit "$@" 2>&1 | tee "$run_log"
rc=${PIPESTATUS[0]}
set -e
if node scripts/check-log-secrets.mjs "$run_log"; then rm -f "$run_log"; elif [ "$rc" -eq 0 ]; then rc=1; fi

if [ "$generated_prefix" -eq 1 ] && command -v redis-cli >/dev/null 2>&1; then
  redis=(redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}")
  { "${redis[@]}" --scan --pattern "${REDIS_KEY_PREFIX}*" 2>/dev/null |
      xargs -r -n 500 "${redis[@]}" del >/dev/null 2>&1; } || true
fi
node -e 'require("./common/dist/src/testing/nats.js").deleteTestStreams(process.env.NATS_PREFIX).catch(() => {})' 2>/dev/null || true
exit "$rc"
