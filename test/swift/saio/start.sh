#!/usr/bin/env bash
# start.sh - an OpenStack Swift all-in-one on loopback for stowage's swift and s3 tests.
#
# Installs the Debian packages when missing, writes configs and rings under $STOWAGE_SAIO_DIR,
# starts memcached and the account, container, object and proxy servers as plain background
# processes (pid + cmdline match saved in run/), and waits until each one answers.
# Proxy: Swift API with tempauth v1 (/auth/v1.0, user test:tester key testing), the S3 API
# through s3api (path style, access key test:tester, secret testing, region us-east-1),
# slo, dlo, bulk, tempurl.
#
# Idempotent and safe to run concurrently: a flock serialises starts, and a start that finds
# everything healthy returns at once. Stop with stop.sh (only the pids recorded here).
set -euo pipefail

D=${STOWAGE_SAIO_DIR:-/tmp/stowage-swift}
PROXY_PORT=${STOWAGE_SAIO_PROXY_PORT:-28080}
OBJECT_PORT=${STOWAGE_SAIO_OBJECT_PORT:-28210}
CONTAINER_PORT=${STOWAGE_SAIO_CONTAINER_PORT:-28211}
ACCOUNT_PORT=${STOWAGE_SAIO_ACCOUNT_PORT:-28212}
MEMCACHED_PORT=${STOWAGE_SAIO_MEMCACHED_PORT:-28311}
TIMEOUT=${STOWAGE_SAIO_TIMEOUT:-90}
# swift.conf is read from /etc/swift/swift.conf only; keep the suffix every local SAIO uses
HASH_SUFFIX=saio-ci-hash-suffix
RUN_USER=$(id -un)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ETC=$D/etc SRV=$D/srv RUN=$D/run LOG=$D/log
PY=/usr/bin/python3   # Debian's python holds the swift modules, whatever python3 is on PATH

say() { printf '[stowage-saio] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- packages
PKGS=(swift swift-proxy swift-account swift-container swift-object memcached curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  APT=(apt-get)
  if [ "$(id -u)" != 0 ]; then
    # another user installs through password-less sudo, as .ci/run does
    sudo -n true 2>/dev/null || die "missing Debian packages: ${missing[*]} (need root or password-less sudo to install them)"
    APT=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  install() { "${APT[@]}" install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >"$D.apt.log" 2>&1; }
  if ! install; then
    say "apt-get install failed; running apt-get update and retrying"
    "${APT[@]}" update -q >/dev/null 2>&1 || true
    install || { tail -20 "$D.apt.log" >&2; die "apt-get install failed"; }
  fi
fi

# ---------------------------------------------------------------- helpers
proc_alive() {  # pid substring-of-cmdline
  local cmd
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [ -n "$cmd" ] && [[ "$cmd" == *"$2"* ]]
}
http_ok() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$1/healthcheck" 2>/dev/null; }
memcached_ok() { "$PY" - "$MEMCACHED_PORT" <<'EOF' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"version\r\n")
sys.exit(0 if s.recv(64).startswith(b"VERSION") else 1)
EOF
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
SERVICES=(memcached account container object proxy)
svc_ok() {
  case $1 in
    memcached) memcached_ok ;; account) http_ok "$ACCOUNT_PORT" ;; container) http_ok "$CONTAINER_PORT" ;;
    object) http_ok "$OBJECT_PORT" ;; proxy) http_ok "$PROXY_PORT" ;;
  esac
}
svc_port() {
  case $1 in
    memcached) echo "$MEMCACHED_PORT" ;; account) echo "$ACCOUNT_PORT" ;; container) echo "$CONTAINER_PORT" ;;
    object) echo "$OBJECT_PORT" ;; proxy) echo "$PROXY_PORT" ;;
  esac
}
write_env() {
  cat >"$D/env.json" <<EOF
{"proxyPort": $PROXY_PORT, "memcachedPort": $MEMCACHED_PORT, "authUrl": "http://127.0.0.1:$PROXY_PORT/auth/v1.0", "storageUrl": "http://127.0.0.1:$PROXY_PORT/v1/AUTH_test", "s3Endpoint": "http://127.0.0.1:$PROXY_PORT", "user": "test:tester", "key": "testing", "region": "us-east-1"}
EOF
}

# ---------------------------------------------------------------- one start at a time
mkdir -p "$D"
exec 9>"$D/.start.lock"
flock -w "$TIMEOUT" 9 || die "another start holds $D/.start.lock"

all_up=1
for s in "${SERVICES[@]}"; do
  if ! proc_alive "$(cat "$RUN/$s.pid" 2>/dev/null || true)" "$(cat "$RUN/$s.match" 2>/dev/null || echo '?none?')" || ! svc_ok "$s"; then
    all_up=0; break
  fi
done
if [ "$all_up" = 1 ]; then write_env; say "already running: http://127.0.0.1:$PROXY_PORT"; exit 0; fi
if compgen -G "$RUN/*.pid" >/dev/null; then STOWAGE_SAIO_DIR=$D "$HERE/stop.sh" || true; fi
for s in "${SERVICES[@]}"; do
  port_busy "$(svc_port "$s")" && die "port 127.0.0.1:$(svc_port "$s") (for $s) is in use by a process this script did not start"
done

# A fresh start wipes the data of earlier runs (tests use throw-away containers); STOWAGE_SAIO_KEEP_DATA=1 keeps it.
[ "${STOWAGE_SAIO_KEEP_DATA:-0}" = 1 ] || rm -rf "$SRV"
mkdir -p "$ETC" "$SRV/sdb1" "$RUN" "$LOG" "$D/cache"

# ---------------------------------------------------------------- swift.conf (hard-coded path in swift)
cat >"$ETC/swift.conf" <<EOF
[swift-hash]
swift_hash_path_suffix = $HASH_SUFFIX
swift_hash_path_prefix =

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
EOF
if ! cmp -s "$ETC/swift.conf" /etc/swift/swift.conf; then
  if grep -q "^swift_hash_path_suffix = $HASH_SUFFIX\$" /etc/swift/swift.conf 2>/dev/null; then
    : # another local SAIO wrote the same hash settings: keep its file
  else
    mkdir -p /etc/swift
    [ -e /etc/swift/swift.conf ] && [ ! -e /etc/swift/swift.conf.pre-stowage ] && cp -p /etc/swift/swift.conf /etc/swift/swift.conf.pre-stowage
    cp "$ETC/swift.conf" /etc/swift/swift.conf
  fi
fi

# ---------------------------------------------------------------- rings (one python process: ~0.6 s)
stamp="8 1 a=$ACCOUNT_PORT c=$CONTAINER_PORT o=$OBJECT_PORT"
if [ "$(cat "$ETC/rings.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -s "$ETC/object.ring.gz" ]; then
  (cd "$ETC" && "$PY" - "$ACCOUNT_PORT" "$CONTAINER_PORT" "$OBJECT_PORT" <<'EOF'
import sys
from swift.common.ring import RingBuilder
for name, port in zip(("account", "container", "object"), map(int, sys.argv[1:4])):
    b = RingBuilder(8, 1, 1)
    b.add_dev({"region": 1, "zone": 1, "ip": "127.0.0.1", "port": port, "replication_ip": "127.0.0.1",
               "replication_port": port, "device": "sdb1", "weight": 1.0, "meta": ""})
    b.rebalance()
    b.get_ring().save(name + ".ring.gz")
EOF
  ) || die "ring build failed"
  echo "$stamp" >"$ETC/rings.stamp"
fi

# ---------------------------------------------------------------- server confs
defaults() {  # port name
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = $RUN_USER
swift_dir = $ETC
devices = $SRV
mount_check = false
disable_fallocate = true
fallocate_reserve = 0
log_name = $2
log_level = WARNING
log_udp_host = 127.0.0.1
recon_cache_path = $D/cache
EOF
}
for s in account container object; do
  port=$(svc_port $s)
  { defaults "$port" "$s-server"; cat <<EOF

[pipeline:main]
pipeline = healthcheck $s-server

[app:$s-server]
use = egg:swift#$s

[filter:healthcheck]
use = egg:swift#healthcheck

[$s-replicator]
[$s-auditor]
EOF
  [ $s = container ] && printf '[container-updater]\n[container-sync]\n'
  [ $s = object ] && printf '[object-updater]\n[object-reconstructor]\n'
  } >"$ETC/$s-server.conf"
done
{ defaults "$PROXY_PORT" proxy-server; cat <<EOF

[pipeline:main]
# s3api before tempauth (tempauth checks S3 signatures itself) and before slo (multipart = SLO)
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
token_life = 86400

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false
dns_compliant_bucket_names = true
min_segment_size = 5242880
allowable_clock_skew = 900

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
} >"$ETC/proxy-server.conf"

# ---------------------------------------------------------------- start (own session each: nothing holds our stdout)
start_bg() {  # name match cmd...
  local name=$1 match=$2; shift 2
  setsid "$@" </dev/null >"$LOG/$name.log" 2>&1 8>&- 9>&- &
  echo $! >"$RUN/$name.pid"
  echo "$match" >"$RUN/$name.match"
}
mc_user=(); [ "$(id -u)" = 0 ] && mc_user=(-u "$RUN_USER")
start_bg memcached "-p $MEMCACHED_PORT" memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -c 1024 "${mc_user[@]}"
for s in account container object proxy; do
  start_bg "$s" "$ETC/$s-server.conf" "$PY" "$HERE/fastlaunch.py" "/usr/bin/swift-$s-server" "$ETC/$s-server.conf" -v
done

deadline=$(( $(date +%s) + TIMEOUT ))
pending=("${SERVICES[@]}")
while [ ${#pending[@]} -gt 0 ]; do
  still=()
  for s in "${pending[@]}"; do
    svc_ok "$s" && continue
    if ! proc_alive "$(cat "$RUN/$s.pid")" "$(cat "$RUN/$s.match")"; then
      say "$s exited during start; last lines of $LOG/$s.log:"; tail -25 "$LOG/$s.log" >&2 || true
      STOWAGE_SAIO_DIR=$D "$HERE/stop.sh" || true
      exit 1
    fi
    still+=("$s")
  done
  pending=("${still[@]+"${still[@]}"}")
  [ ${#pending[@]} -eq 0 ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    say "timed out after ${TIMEOUT}s waiting for: ${pending[*]}"
    STOWAGE_SAIO_DIR=$D "$HERE/stop.sh" || true
    exit 1
  fi
  sleep 0.1
done
write_env
say "healthy: http://127.0.0.1:$PROXY_PORT (logs in $LOG)"
