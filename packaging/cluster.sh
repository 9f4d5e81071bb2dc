# shellcheck shell=bash disable=SC2154  # root, build_dir, packages: dev.sh's
# `packaging/dev.sh cluster`: sourced by dev.sh (uses its say, build, packages, build_dir; the
# working directory is the repository root). A local cluster: PostgreSQL 15 and Redis, three
# gateway nodes on configs/cluster.toml sharing them, haproxy round-robin in front. Everything it
# keeps lives in var/cluster/ (a second run reuses it; rm -rf var/cluster starts over):
#   pg/             PostgreSQL's data directory (initdb once), postgres.log its log
#   appendonlydir/  Redis's data (AOF), redis.log its log
#   data.key        the data key all nodes seal webhook secrets under (made once)
#   log/nodeN/      node N's access, audit and error logs; nodeN.log its console output
#   haproxy.cfg     written on every run; haproxy.log its log
#   demo-key.txt    the demo partner's API key
# Ports (fixed; a taken one fails the start): haproxy 8080 (stats 8404), the nodes' partner API
# 8081-8083 and admin API 9911-9913, PostgreSQL 55432 (PORTICO_CLUSTER_PG_PORT overrides it),
# Redis 56379. Ctrl-C (or SIGTERM) stops haproxy, the nodes, Redis and PostgreSQL in that order.

cluster_dir=var/cluster
cluster_pg_port=${PORTICO_CLUSTER_PG_PORT:-55432}
cluster_redis_port=56379
cluster_stats_port=8404

declare -A cluster_pid=() cluster_log=()  # piece → its pid, the log shown when it fails
cluster_started=()                        # the pieces, in start order
cluster_pg_data=""                        # PostgreSQL's data directory (set by cluster_postgres)
cluster_marker="--- packaging/dev.sh cluster started"  # opens each run's part of a log

# cluster_fail LOG MESSAGE...: says what failed, shows the end of LOG, and exits 1 (the EXIT trap
# stops whatever was started).
cluster_fail() {
  local log=$1
  shift
  say "$*"
  if [ -s "$log" ]; then
    echo "--- the last lines of $log:" >&2
    # this run's only: the logs are kept across runs, each run's part opened by a marker line
    awk -v marker="$cluster_marker" 'index($0, marker) == 1 {n = 0; next} {line[n++] = $0}
      END {for (i = (n > 20 ? n - 20 : 0); i < n; i++) print line[i]}' "$log" >&2
  fi
  exit 1
}

# The fixed ports, checked before anything is built or started.
cluster_check_ports() {
  local port busy=()
  for port in "$@"; do
    if command -v ss >/dev/null 2>&1; then
      [ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] || busy+=("$port")
    elif (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      busy+=("$port")
    fi
  done
  [ ${#busy[@]} -eq 0 ] && return 0
  for port in "${busy[@]}"; do
    say "port $port is taken; the cluster needs it"
    if command -v ss >/dev/null 2>&1; then ss -Hltnp "sport = :$port" >&2 2>/dev/null || true; fi
  done
  echo "Stop what listens there (a previous cluster killed without Ctrl-C?) and try again." >&2
  [[ " ${busy[*]} " == *" $cluster_pg_port "* ]] &&
    echo "PostgreSQL's port can be moved: PORTICO_CLUSTER_PG_PORT=55433 packaging/dev.sh cluster" >&2
  exit 1
}

cluster_mark() { printf '%s %s\n' "$cluster_marker" "$(date -u +%FT%TZ)" >>"$1"; }

# cluster_spawn NAME LOG COMMAND...: COMMAND in the background, output appended to LOG. setsid
# gives it a session of its own, so a Ctrl-C in the terminal reaches only this script, which then
# stops the pieces in order (the nodes before the database they drain into).
cluster_spawn() {
  local name=$1 log=$2
  shift 2
  cluster_mark "$log"
  setsid "$@" </dev/null >>"$log" 2>&1 &
  cluster_pid[$name]=$!
  cluster_log[$name]=$log
  cluster_started+=("$name")
}

# cluster_wait NAME SECONDS CHECK...: until CHECK succeeds (tried every 0.1 s); fails with NAME's
# log if NAME exits or SECONDS pass first.
cluster_wait() {
  local name=$1 tries=$(($2 * 10)) i
  shift 2
  for ((i = 0; i < tries; i++)); do
    kill -0 "${cluster_pid[$name]}" 2>/dev/null ||
      cluster_fail "${cluster_log[$name]}" "$name exited while starting"
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cluster_fail "${cluster_log[$name]}" "$name did not come up within $((tries / 10)) s"
}

cluster_signal() {  # cluster_signal NAME SIGNAL
  local pid=${cluster_pid[$1]:-}
  if [ -n "$pid" ]; then kill -"$2" "$pid" 2>/dev/null || true; fi
}

# PostgreSQL: SIGINT (fast shutdown) to the postmaster, which is our child or, as root, runuser's.
cluster_signal_postgres() {
  local pid=${cluster_pid[postgres]:-} postmaster
  [ -n "$pid" ] || return 0
  postmaster=$(head -n 1 "$cluster_pg_data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$postmaster" ] && { [ "$postmaster" = "$pid" ] ||
       [ "$(awk '{print $4}' "/proc/$postmaster/stat" 2>/dev/null)" = "$pid" ]; }; then
    kill -INT "$postmaster" 2>/dev/null || true
  else
    cluster_signal postgres TERM  # not up far enough to have written its pid file
  fi
}

# cluster_reap NAME: waits for NAME to exit (SIGKILL after 15 s).
cluster_reap() {
  local name=$1 pid=${cluster_pid[$1]:-} i
  [ -n "$pid" ] || return 0
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop within 15 s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "cluster_pid[$name]"
}

# The EXIT trap: stops what was started, front to back. A second Ctrl-C does not cut it short.
cluster_stop() {
  trap '' INT TERM
  trap - EXIT
  [ ${#cluster_pid[@]} -gt 0 ] || return 0
  say "stopping the cluster"
  cluster_signal haproxy USR1  # soft stop: finishes what is in flight (hard-stop-after 5s)
  cluster_reap haproxy
  local n
  for n in 1 2 3; do cluster_signal "node$n" TERM; done  # each drains (shutdown_timeout 5s)
  for n in 1 2 3; do cluster_reap "node$n"; done
  cluster_signal redis TERM  # appends the last writes to its AOF
  cluster_reap redis
  cluster_signal_postgres
  cluster_reap postgres
  say "stopped"
}

# initdb (once), the postmaster on 127.0.0.1:$cluster_pg_port, the database portico.
cluster_postgres() {
  local bin
  bin=$(pg_config --bindir 2>/dev/null || true)
  [ -x "$bin/postgres" ] || bin=/usr/lib/postgresql/15/bin
  if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/postgres" ]; then
    say "no PostgreSQL server in $bin (Debian: apt-get install postgresql-15)"
    exit 1
  fi
  local home=$root/$cluster_dir socket=$root/$cluster_dir
  local -a as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    # initdb and postgres refuse to run as root: they run as the postgres system user, which owns
    # the data directory and a socket directory of its own (pg-socket: var/cluster stays ours).
    # When that user cannot traverse the path to the repository (under a home directory of mode
    # 0700, say), both go to /tmp/portico-cluster-pg-0 instead, which a second run reuses as long
    # as /tmp is kept (not across a reboot that empties it).
    as_pg=(runuser -u postgres --)
    if ! runuser -u postgres -- test -x "$home"; then
      home=/tmp/portico-cluster-pg-$UID
      [ -d "$home" ] || mkdir -m 0755 "$home"
      if [ -L "$home" ] || [ "$(stat -c %u "$home")" != "$(id -u)" ]; then
        say "$home is not a directory of ours: remove it and try again"
        exit 1
      fi
      say "the postgres user cannot reach $root/$cluster_dir: PostgreSQL's data is in $home/pg"
    fi
    socket=$home/pg-socket
    [ -d "$socket" ] || mkdir -m 0700 "$socket"
    chown postgres: "$socket"
  fi
  cluster_pg_data=$home/pg
  if [ ! -f "$cluster_pg_data/PG_VERSION" ]; then
    say "creating the PostgreSQL cluster in $cluster_pg_data"
    [ -d "$cluster_pg_data" ] || mkdir -m 0700 "$cluster_pg_data"
    [ ${#as_pg[@]} -eq 0 ] || chown postgres: "$cluster_pg_data"
    "${as_pg[@]}" "$bin/initdb" -D "$cluster_pg_data" --auth=trust -U postgres -E UTF8 \
      --locale=C >"$cluster_dir/initdb.log" 2>&1 ||
      cluster_fail "$cluster_dir/initdb.log" "initdb failed"
  elif [ ${#as_pg[@]} -gt 0 ] && [ "$(stat -c %U "$cluster_pg_data")" != postgres ]; then
    chown -R postgres: "$cluster_pg_data"  # made by an earlier run as another user
  fi
  say "starting PostgreSQL on 127.0.0.1:$cluster_pg_port"
  cluster_spawn postgres "$cluster_dir/postgres.log" "${as_pg[@]}" "$bin/postgres" \
    -D "$cluster_pg_data" -p "$cluster_pg_port" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$socket"
  cluster_wait postgres 30 "$bin/pg_isready" -q -h 127.0.0.1 -p "$cluster_pg_port" \
    -U postgres
  local exists
  exists=$("$bin/psql" -h 127.0.0.1 -p "$cluster_pg_port" -U postgres -d postgres -XtAc \
           "SELECT 1 FROM pg_database WHERE datname = 'portico'" 2>>"$cluster_dir/postgres.log") ||
    cluster_fail "$cluster_dir/postgres.log" "cannot query PostgreSQL on port $cluster_pg_port"
  if [ "$exists" != 1 ]; then
    "$bin/createdb" -h 127.0.0.1 -p "$cluster_pg_port" -U postgres portico \
      2>>"$cluster_dir/postgres.log" ||
      cluster_fail "$cluster_dir/postgres.log" "createdb portico failed"
  fi
}

cluster_haproxy_config() {
  cat <<CFG
# Written by packaging/dev.sh cluster on every run (edits are lost).
global
  maxconn 4096
  hard-stop-after 5s
  log stdout format raw local0

defaults
  mode http
  log global
  option httplog
  option dontlognull
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  timeout http-keep-alive 30s
  timeout queue 10s
  timeout check 2s
  retries 3
  option redispatch

frontend partners
  bind 127.0.0.1:8080
  default_backend nodes

# Round-robin; a node is taken out while its admin /readyz (the partner port has only /healthz)
# does not answer 200, e.g. while its database writes fail. The nodes trust 127.0.0.1 as a proxy
# (server.trusted_proxies), so they see the partner's address from X-Forwarded-For.
backend nodes
  balance roundrobin
  option forwardfor
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
  server node1 127.0.0.1:8081 check port 9911
  server node2 127.0.0.1:8082 check port 9912
  server node3 127.0.0.1:8083 check port 9913

listen stats
  bind 127.0.0.1:$cluster_stats_port
  stats enable
  stats uri /
  stats refresh 5s
CFG
}

cluster() {
  # Started in the background by a non-interactive shell (`packaging/dev.sh cluster &` in a
  # script), bash inherits SIGINT ignored and cannot trap it: run again with it restored, so that
  # kill -INT stops the cluster as Ctrl-C does (same pid: exec).
  local ignored
  ignored=$(awk '/^SigIgn:/ {print $2}' /proc/$$/status 2>/dev/null || true)
  if [ -n "$ignored" ] && (( 0x$ignored & 2 )) && [ -z "${PORTICO_CLUSTER_SIGINT:-}" ]; then
    PORTICO_CLUSTER_SIGINT=restored exec env --default-signal=INT "$root/packaging/dev.sh" cluster
  fi
  [[ "$cluster_pg_port" =~ ^[0-9]+$ ]] || {
    echo "PORTICO_CLUSTER_PG_PORT must be a port number, not '$cluster_pg_port'" >&2
    exit 2
  }
  cluster_check_ports 8080 8081 8082 8083 9911 9912 9913 "$cluster_pg_port" \
    "$cluster_redis_port" "$cluster_stats_port"
  packages+=("${cluster_packages[@]}")
  build portico portico_plugins

  local admin_token=${PORTICO_ADMIN_TOKEN:-} token_note
  if [ -z "$admin_token" ]; then
    admin_token=dev-admin-token
    token_note="$admin_token — the fallback from configs/cluster.toml, because PORTICO_ADMIN_TOKEN is not set; set it for anything but a local demo"
  else
    token_note="from PORTICO_ADMIN_TOKEN"
  fi
  mkdir -p "$cluster_dir/log"
  export PORTICO_CONFIG=configs/cluster.toml
  export PORTICO_DATABASE_URL=postgresql://postgres@127.0.0.1:$cluster_pg_port/portico
  export PORTICO_REDIS_URL=redis://127.0.0.1:$cluster_redis_port/0
  export PORTICO_DATA_KEY_FILE=$root/$cluster_dir/data.key
  local portico="$build_dir/bin/portico"
  if [ ! -s "$PORTICO_DATA_KEY_FILE" ]; then
    say "creating the data key $cluster_dir/data.key (the same for every node)"
    (umask 077; openssl rand -hex 32 >"$PORTICO_DATA_KEY_FILE")
  fi
  "$portico" check

  trap cluster_stop EXIT
  trap 'exit 0' INT TERM
  cluster_postgres

  say "starting Redis on 127.0.0.1:$cluster_redis_port"
  cluster_spawn redis "$cluster_dir/redis.log" redis-server --port "$cluster_redis_port" \
    --bind 127.0.0.1 --dir "$root/$cluster_dir" --save '' --appendonly yes --daemonize no
  cluster_wait redis 15 redis-cli -h 127.0.0.1 -p "$cluster_redis_port" ping

  # Node 1 first: it applies the migrations; 2 and 3 then find the schema up to date.
  local n
  for n in 1 2 3; do
    say "starting node $n on 127.0.0.1:808$n (admin 127.0.0.1:991$n)"
    mkdir -p "$cluster_dir/log/node$n"
    cluster_spawn "node$n" "$cluster_dir/node$n.log" env PORTICO_LOG_DIR="$cluster_dir/log/node$n" \
      "$portico" serve -c configs/cluster.toml \
      --set server.listen=127.0.0.1:808$n --set admin.listen=127.0.0.1:991$n
    if [ "$n" -eq 1 ]; then cluster_wait node1 60 curl -fs http://127.0.0.1:8081/healthz; fi
  done
  for n in 2 3; do cluster_wait "node$n" 60 curl -fs "http://127.0.0.1:808$n/healthz"; done

  say "starting haproxy on 127.0.0.1:8080"
  cluster_haproxy_config >"$cluster_dir/haproxy.cfg"
  cluster_mark "$cluster_dir/haproxy.log"
  haproxy -c -q -f "$cluster_dir/haproxy.cfg" >>"$cluster_dir/haproxy.log" 2>&1 ||
    cluster_fail "$cluster_dir/haproxy.log" "haproxy refuses $cluster_dir/haproxy.cfg"
  cluster_spawn haproxy "$cluster_dir/haproxy.log" haproxy -f "$cluster_dir/haproxy.cfg" -db
  cluster_wait haproxy 15 curl -fs http://127.0.0.1:8080/healthz

  # The demo partner, its key and the catalog, through node 1's admin API (admin.listen of
  # configs/cluster.toml); like `run`, made once and kept.
  local key_file=$cluster_dir/demo-key.txt key=""
  [ -f "$key_file" ] && key=$(cat "$key_file")
  if [ -z "$key" ] || [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" \
       http://127.0.0.1:8080/v1/usage)" = "401" ]; then
    say "creating the demo partner and its API key"
    local partner
    partner=$("$portico" partner list --json | awk -F'"' \
      '/"id": "ptr_/ {id=$4} /"name": "Demo Partner"/ && !found {print id; found=1}')
    [ -n "$partner" ] ||
      partner=$("$portico" partner add --name "Demo Partner" --tier premium --json |
                sed -n 's/.*"id": *"\(ptr_[^"]*\)".*/\1/p' | head -1)
    key=$("$portico" key issue "$partner" --env test --json |
          sed -n 's/.*"key": *"\(pk_test_[^"]*\)".*/\1/p' | head -1)
    [ -n "$key" ] || cluster_fail "$cluster_dir/node1.log" "could not issue the demo key"
    (umask 077; printf '%s\n' "$key" >"$key_file")
  fi
  if [ "$(curl -s -H "X-API-Key: $key" 'http://127.0.0.1:8080/v1/products?limit=1' |
          grep -c '"id"')" = "0" ]; then
    say "importing the demo catalog"
    "$portico" catalog import configs/demo/catalog.json >/dev/null
  fi
  local product
  product=$(curl -s -H "X-API-Key: $key" 'http://127.0.0.1:8080/v1/products?limit=1' |
            grep -o '"id": *"prod_[^"]*"' | head -1 | sed 's/.*"\(prod_[^"]*\)"/\1/')
  product=${product:-prod_0001}

  cat >&2 <<MSG

A Portico cluster is running: haproxy on http://127.0.0.1:8080 round-robin over three nodes
(partner API 127.0.0.1:8081-8083, admin API 127.0.0.1:9911-9913) sharing PostgreSQL
(127.0.0.1:$cluster_pg_port, database portico) and Redis (127.0.0.1:$cluster_redis_port). Try:

  curl -s -H 'X-API-Key: $key' 'http://127.0.0.1:8080/v1/products?limit=3'

  # the same product from each node directly: they agree
  curl -s -H 'X-API-Key: $key' http://127.0.0.1:8081/v1/products/$product
  curl -s -H 'X-API-Key: $key' http://127.0.0.1:8082/v1/products/$product
  curl -s -H 'X-API-Key: $key' http://127.0.0.1:8083/v1/products/$product

  # an order through haproxy (a fresh Idempotency-Key each time; repeat one to see the replay)
  curl -si -X POST http://127.0.0.1:8080/v1/orders -H 'X-API-Key: $key' \\
    -H 'Content-Type: application/json' -H "Idempotency-Key: \$(cat /proc/sys/kernel/random/uuid)" \\
    -d '{"items": [{"product_id": "$product", "quantity": 1}],
         "shipping_address": {"name": "Demo Buyer", "line1": "152 Teheran-ro", "city": "Seoul",
                              "postal_code": "06236", "country": "KR"}}'

  curl -s -H 'X-API-Key: $key' http://127.0.0.1:8080/v1/usage
  curl -s -H 'Authorization: Bearer $admin_token' http://127.0.0.1:9911/admin/v1/plugins

haproxy's stats: http://127.0.0.1:$cluster_stats_port/   PostgreSQL: psql -h 127.0.0.1 -p $cluster_pg_port -U postgres portico
Admin token: $token_note.

Logs: $cluster_dir/log/node{1,2,3}/ (access, audit, error), $cluster_dir/node{1,2,3}.log (console),
$cluster_dir/postgres.log, $cluster_dir/redis.log, $cluster_dir/haproxy.log.
The data (PostgreSQL in $cluster_pg_data, Redis, data.key, the demo key in $key_file) is kept
for the next run; rm -rf $cluster_dir starts over. Stop with Ctrl-C: haproxy, the nodes (drained),
Redis and PostgreSQL stop in that order.

MSG

  # In the foreground until Ctrl-C; a piece that exits on its own stops the rest.
  local -a pids=()
  local name
  for name in "${cluster_started[@]}"; do pids+=("${cluster_pid[$name]}"); done
  while :; do
    wait -n "${pids[@]}" || true
    for name in "${cluster_started[@]}"; do
      kill -0 "${cluster_pid[$name]}" 2>/dev/null ||
        cluster_fail "${cluster_log[$name]}" "$name exited unexpectedly"
    done
    sleep 1  # woken with all still running (should not happen): no busy loop
  done
}
