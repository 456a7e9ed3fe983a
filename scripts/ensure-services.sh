#!/usr/bin/env bash
# Make sure the local backing services answer on loopback:
#   PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379, NATS (JetStream) 127.0.0.1:4222.
# Each one that does not answer is started with the command this kind of
# machine documents (node-svc.md, "Known to work"); if its binary is missing the
# Debian package is installed first (apt-get update once, noninteractive).
# Waits up to SERVICE_WAIT_SECONDS (30) per service; fails naming the service.
# Never reads standard input. Installs nothing but those three packages.
set -euo pipefail

PG_HOST=127.0.0.1 PG_PORT="${PG_PORT:-5432}"
REDIS_HOST=127.0.0.1 REDIS_PORT="${REDIS_PORT:-6379}"
NATS_HOST=127.0.0.1 NATS_PORT="${NATS_PORT:-4222}"
WAIT_SECONDS="${SERVICE_WAIT_SECONDS:-30}"

export DEBIAN_FRONTEND=noninteractive
exec </dev/null

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# Run as root, or through passwordless sudo; never prompt.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root to run: $*"
  fi
}

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

pg_ok() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else
    tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

redis_ok() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
  else
    tcp_open "$REDIS_HOST" "$REDIS_PORT"
  fi
}

# The NATS server greets every client with an INFO line; it says whether
# JetStream is on.
nats_info() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$NATS_HOST/$NATS_PORT && head -n1 <&3" 2>/dev/null || true
}
nats_ok() { nats_info | grep -q '"jetstream":true'; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* yourself"
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
      die "apt-get update failed (needed to install $*)"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >&2 ||
    die "apt-get install $* failed"
}

wait_for() { # name check-function
  local name=$1 check=$2 i
  for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    if "$check"; then log "$name is up"; return 0; fi
    sleep 0.5
  done
  return 1
}

# --- PostgreSQL --------------------------------------------------------------
pg_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -n1; }

start_postgres() {
  local installed_now=0 v
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(pg_version)" ]; then
    apt_install postgresql
    installed_now=1
  fi
  v=$(pg_version)
  [ -n "$v" ] || die "PostgreSQL: no cluster version under /etc/postgresql after install"
  if [ ! -d "/etc/postgresql/$v/main" ]; then
    log "creating PostgreSQL cluster $v/main"
    as_root pg_createcluster "$v" main >&2
    installed_now=1
  fi
  if [ "$installed_now" -eq 1 ]; then
    # A fresh Debian cluster asks for passwords over TCP; the dev and test
    # settings (postgres://postgres@127.0.0.1) expect trust on loopback, as on
    # a ready-made machine of this kind. Only done for a cluster made just now.
    local hba="/etc/postgresql/$v/main/pg_hba.conf"
    log "PostgreSQL: trust auth on loopback in $hba (fresh cluster)"
    as_root sed -i -E \
      -e 's/^(local[[:space:]]+all[[:space:]]+all[[:space:]]+)peer$/\1trust/' \
      -e 's/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1\/32|::1\/128)[[:space:]]+)[a-z0-9-]+$/\1trust/' \
      "$hba"
    as_root sed -i -E 's/^(local[[:space:]]+all[[:space:]]+postgres[[:space:]]+)peer$/\1trust/' "$hba"
  fi
  log "starting PostgreSQL $v"
  as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start >&2 ||
    as_root pg_ctlcluster --skip-systemctl-redirect "$v" main restart >&2 || true
}

# --- Redis -------------------------------------------------------------------
start_redis() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  as_root mkdir -p /var/lib/redis /var/log/redis
  log "starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2
}

# --- NATS --------------------------------------------------------------------
start_nats() {
  [ -x /usr/sbin/nats-server ] || apt_install nats-server
  if tcp_open "$NATS_HOST" "$NATS_PORT"; then
    die "NATS: something answers on $NATS_HOST:$NATS_PORT but without JetStream (INFO: $(nats_info | cut -c1-200)); restart it with -js"
  fi
  as_root mkdir -p /var/lib/nats-server
  log "starting NATS (JetStream)"
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a "$NATS_HOST" -p "$NATS_PORT" -js -sd /var/lib/nats-server -l /var/log/nats-server.log >&2
}

ensure() { # name check start
  local name=$1 check=$2 start=$3
  if "$check"; then log "$name is up"; return 0; fi
  log "$name does not answer; starting it"
  "$start" || true
  wait_for "$name" "$check" ||
    die "$name did not come up within ${WAIT_SECONDS}s (see its log under /var/log)"
}

ensure "PostgreSQL ($PG_HOST:$PG_PORT)" pg_ok start_postgres
ensure "Redis ($REDIS_HOST:$REDIS_PORT)" redis_ok start_redis
ensure "NATS JetStream ($NATS_HOST:$NATS_PORT)" nats_ok start_nats
