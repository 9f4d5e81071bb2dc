#!/usr/bin/env bash
# Portico benchmark harness (issue #9): Portico against the nginx peer, in the same run, with the
# same client settings, alternating rounds. See docs/performance.md and `run.sh --help`.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tests/bench/run.sh [--quick] [--build DIR] [--out DIR] [options]

Starts Portico (configs/bench.toml, a scratch database) and the nginx peer
(../shared/peers/nginx-product-detail.conf, a scratch prefix) on 127.0.0.1, drives both with
wrk -t2, alternating rounds (nginx, Portico, nginx, Portico, ...), and reports the median per peer:

  (a) GET /v1/products/{id} with an API key and the rate limit    vs nginx (connections 16/64/256)
  (b) GET /v1/products?limit=20                                   (1k and 100k products)
  (c) the 401 path (a bad key)                                    vs nginx's 401
  (d) POST /v1/orders, a unique Idempotency-Key per request
  (e) webhook deliveries per second to a local nginx receiver (answers 204)
  (f) RSS idle and under load (VmRSS/VmHWM)
  (g) start-up time, exec -> /healthz 200, best of 5 (3 with --quick)

In (a) at 64 connections a second nginx also runs: the peer's conf answering Portico's own
response (its header lines and body, bench.py same-response-conf), to tell what the response's
size costs the client and the kernel from what the gateway does to make it. Information only:
every target compares with the peer.

Writes OUT/results.json (OUT/results-quick.json with --quick), prints the table, and draws
OUT/results.png with gnuplot when it is installed. Targets are reported, never asserted: the exit
status is 0 when every scenario ran, 1 when Portico did not start or a scenario failed (more than
0.1 % unexpected answers or socket errors), 77 when a required tool (wrk, curl, python3) is
missing.

Options:
  --quick          smoke test: 1 s per round, 2 rounds per peer, 64 connections, 1k products
                   (well under a minute; what `ctest -R bench_quick` runs)
  --build DIR      build tree with bin/portico and plugins/ (default: build)
  --out DIR        where results go (default: DIR/bench of --build)
  --duration S     seconds per wrk round (default: 8; --quick: 1)
  --rounds N       rounds per peer and scenario (default: 3; --quick: 2)
  --peer-conf FILE the nginx peer's conf (default: ../shared/peers/nginx-product-detail.conf
                   next to the repository; skipped with a message when it is missing)
  --no-peer        skip the nginx peer
  --keep           keep the scratch directory (logs, raw wrk output) and print its path
  -h, --help       show this help

Needs wrk, curl, python3; nginx (nginx-light) for the peer and the webhook receiver, gnuplot
(gnuplot-nox) for the chart -- packaging/dev.sh installs them. Everything listens on 127.0.0.1;
nginx's peer port 18080 is fixed by its conf.
EOF
}

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/bench"
config="$root/configs/bench.toml"
peer_conf="$root/../shared/peers/nginx-product-detail.conf"
peer_url="http://127.0.0.1:18080"
peer_key="pk_test_demo_0123456789abcdef"
bad_key="pk_test_bench0bad0key0000000000000000"

# common.sh: common_option, check_whole_numbers, say, note, fail, stop_pid, keep_or_remove_scratch,
# free_port, http_status, json_field
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"

quick=0
build="$root/build"
out=""
duration=""
rounds=""
use_peer=1
keep=0
while [ $# -gt 0 ]; do
  common_option "$@"
  if [ "$taken" -gt 0 ]; then
    shift "$taken"
    continue
  fi
  case "$1" in
    --peer-conf) peer_conf=${2:?--peer-conf needs a file}; shift ;;
    --no-peer) use_peer=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then
  mode=quick; duration=${duration:-1}; rounds=${rounds:-2}
  conn_levels=(64); catalogs=(1000); webhook_events=2000; startup_runs=3; warmup=0
  results_name=results-quick
else
  mode=full; duration=${duration:-8}; rounds=${rounds:-3}
  conn_levels=(16 64 256); catalogs=(1000 100000); webhook_events=10000; startup_runs=5; warmup=2
  results_name=results
fi
alloc_requests=10000  # (h): requests per path, in both modes
connections=64  # for every scenario but (a)'s connection sweep
check_whole_numbers run.sh

# What common.sh's functions read from this script:
# shellcheck disable=SC2034  # common.sh's fail prints it
fail_prefix="bench"
# shellcheck disable=SC2034  # common.sh's stop_pid sends SIGCONT first: a paused receiver must see the signal
stop_pid_cont=1

for tool in wrk curl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIPPED: $tool not found; install the Debian package $tool (packaging/dev.sh does)" >&2
    exit 77
  fi
done
# The interpreter itself, not a version-manager shim (pyenv's costs ~0.5 s per call).
python=$(python3 -c 'import sys; print(sys.executable)')

build=$(cd "$build" 2>/dev/null && pwd) || fail "no build directory '$build'"
portico="$build/bin/portico"
[ -x "$portico" ] || fail "no $portico: build first (packaging/dev.sh build) or pass --build DIR"
[ -d "$build/plugins" ] || fail "no $build/plugins"
out=${out:-$build/bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX")
measurements="$scratch/measurements.jsonl"
mkfifo "$scratch/tick"
exec {tick}<>"$scratch/tick"  # read -t on it waits without a process (see read_rss)
: >"$measurements"
portico_pid="" peer_pid="" same_pid="" receiver_pid="" wrk_pid=""
peer_status="not run" same_status="not run" same_url=""
started_at=$(date +%s)

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$wrk_pid" ] && stop_pid "$wrk_pid"
  [ -n "$receiver_pid" ] && stop_pid "$receiver_pid"
  [ -n "$peer_pid" ] && stop_pid "$peer_pid"
  [ -n "$same_pid" ] && stop_pid "$same_pid"
  [ -n "$portico_pid" ] && stop_pid "$portico_pid"
  if [ "$rc" -ne 0 ] && [ -f "$scratch/portico.out" ]; then
    echo "---- last lines of Portico's output ($scratch/portico.out) ----" >&2
    tail -n 20 "$scratch/portico.out" >&2 || true
  fi
  keep_or_remove_scratch "$keep" "$scratch"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sets $rss to Portico's FIELD (VmRSS, VmHWM) in kB; fails when Portico is gone. Bash builtins
# only, as is the pause between samples (a read on a FIFO nobody writes): the sampling loop runs
# beside Portico's rounds only, and a fork per sample (awk, sleep) took ~2.5 % of the machine's
# CPU from Portico's rounds and none from nginx's. mapfile reads the file front to back: `read`
# line by line seeks back after each line, and /proc regenerates the text on a seek, so a line
# could be missed while the figures change under load.
read_rss() {
  local line lines
  mapfile -t lines <"/proc/$portico_pid/status" 2>/dev/null || return 1
  for line in "${lines[@]}"; do
    if [[ $line == "$1:"* ]]; then
      rss=${line//[!0-9]/}
      [ -n "$rss" ] && return 0
    fi
  done
  return 1
}

cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$portico_pid/stat"
}

# Waits until Portico has been (nearly) idle for half a second: background work (the webhook
# fan-out walking the outbox, batched flushes) must not leak into the next measurement.
wait_quiet() {
  local limit=${1:-30} before after
  for _ in $(seq $((limit * 2))); do
    before=$(cpu_ticks)
    sleep 0.5
    after=$(cpu_ticks)
    [ $((after - before)) -le 3 ] && return 0
  done
  note "Portico still busy after ${limit} s; measuring anyway"
}

# ---------------------------------------------------------------------------------------------
# Processes

start_peer() {
  if [ "$use_peer" = 0 ]; then
    peer_status="skipped: --no-peer"; return 0
  fi
  if [ ! -f "$peer_conf" ]; then
    peer_status="skipped: $peer_conf not found"
    say "nginx peer SKIPPED: $peer_conf not found (Portico runs alone, no ratios)"
    return 0
  fi
  if ! command -v nginx >/dev/null; then
    peer_status="skipped: nginx not installed"
    say "nginx peer SKIPPED: nginx not installed (Debian package nginx-light)"
    return 0
  fi
  say "starting the nginx peer ($peer_conf)"
  mkdir -p "$scratch/peer"
  nginx -p "$scratch/peer/" -e "$scratch/peer/error.log" -c "$peer_conf" -g 'daemon off;' \
    >"$scratch/peer/stdout.log" 2>&1 &
  peer_pid=$!
  for _ in $(seq 50); do
    [ "$(http_status -H "X-API-Key: $peer_key" "$peer_url/v1/products/prod_000001")" = 200 ] && break
    if ! kill -0 "$peer_pid" 2>/dev/null; then
      wait "$peer_pid" 2>/dev/null || true
      peer_pid=""
      peer_status="skipped: nginx did not start ($(tail -n 1 "$scratch/peer/error.log" 2>/dev/null))"
      say "nginx peer SKIPPED: it did not start; is 127.0.0.1:18080 taken?"
      tail -n 3 "$scratch/peer/error.log" >&2 || true
      return 0
    fi
    sleep 0.1
  done
  [ "$(http_status -H "X-API-Key: $bad_key" "$peer_url/v1/products/prod_000001")" = 401 ] ||
    fail "the nginx peer does not answer 401 to a bad key"
  peer_status="ran"
}

# The peer's conf answering Portico's own product response (see --help), once Portico serves it.
# Information only: when it cannot run (a --peer-conf of another shape), the run goes on without.
start_same_response_peer() {
  [ "$peer_status" = ran ] || { same_status="skipped: no peer"; return 0; }
  local dir="$scratch/same" port
  mkdir -p "$dir"
  port=$(free_port)
  curl -si -H "X-API-Key: $key" "$portico_url/v1/products/prod_000001" >"$dir/portico-response" ||
    fail "cannot read Portico's product response"
  if ! "$python" "$here/bench.py" same-response-conf "$peer_conf" "$port" \
    <"$dir/portico-response" >"$dir/nginx.conf"; then
    same_status="skipped: no conf made from $peer_conf"
    say "same-response nginx SKIPPED: see the line above"
    return 0
  fi
  nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/stdout.log" 2>&1 &
  same_pid=$!
  same_url="http://127.0.0.1:$port"
  for _ in $(seq 50); do
    [ "$(http_status -H "X-API-Key: $peer_key" "$same_url/v1/products/prod_000001")" = 200 ] && break
    kill -0 "$same_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ "$(http_status -H "X-API-Key: $peer_key" "$same_url/v1/products/prod_000001")" != 200 ]; then
    stop_pid "$same_pid"
    same_pid=""
    same_status="skipped: it did not answer 200 ($(tail -n 1 "$dir/error.log" 2>/dev/null))"
    say "same-response nginx SKIPPED: it did not answer 200"
    return 0
  fi
  say "same-response nginx on $same_url (the peer's conf, Portico's response)"
  same_status="ran"
}

# The webhook receiver: a second scratch nginx, one process (so it can be paused), 204 to
# everything, one unbuffered access-log line per request ("$msec $status ...").
start_receiver() {
  if ! command -v nginx >/dev/null; then
    say "webhook receiver SKIPPED: nginx not installed (Debian package nginx-light); no (e)"
    return 0
  fi
  local port dir="$scratch/receiver"
  port=$(free_port)
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid receiver.pid;
error_log error.log warn;
events { worker_connections 1024; }
http {
  log_format rx '\$msec \$status \$request_length';
  access_log access.log rx;
  client_body_temp_path body;
  proxy_temp_path proxy;
  fastcgi_temp_path fastcgi;
  uwsgi_temp_path uwsgi;
  scgi_temp_path scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { return 204; }
  }
}
EOF
  nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
  receiver_pid=$!
  receiver_url="http://127.0.0.1:$port/hooks"
  for _ in $(seq 50); do
    [ "$(http_status -X POST -d '{}' "$receiver_url")" = 204 ] && break
    kill -0 "$receiver_pid" 2>/dev/null || fail "the webhook receiver (nginx) did not start: $(cat "$dir/error.log")"
    sleep 0.1
  done
  : >"$dir/access.log"  # the probe's line; nginx keeps appending to the same file
}

start_portico() {  # [NAME=VALUE...]: the environment to add (the (h) scenario's preload)
  say "starting Portico ($portico, configs/bench.toml)"
  mkdir -p "$scratch/portico"
  env "$@" "$portico" serve -c "$config" \
    --set server.listen=127.0.0.1:0 --set admin.listen=127.0.0.1:0 \
    --set "storage.path=$scratch/portico/portico.db" --set "logging.dir=$scratch/portico/log" \
    --set "plugins.dir=$build/plugins" >"$scratch/portico.out" 2>&1 &
  portico_pid=$!
  local line=""
  for _ in $(seq 300); do
    line=$(grep -m1 'portico listening on public' "$scratch/portico.out" || true)
    [ -n "$line" ] && break
    kill -0 "$portico_pid" 2>/dev/null || { wait "$portico_pid" || true; portico_pid=""; fail "Portico exited during start-up"; }
    sleep 0.1
  done
  [ -n "$line" ] || fail "Portico did not report its listeners within 30 s"
  public_port=$(sed -n 's/.*public 127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$line")
  admin_port=$(sed -n 's/.*admin 127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$line")
  if [ -z "$public_port" ] || [ -z "$admin_port" ]; then fail "cannot read the ports from: $line"; fi
  portico_url="http://127.0.0.1:$public_port"
  admin_url="http://127.0.0.1:$admin_port"
  [ "$(http_status "$portico_url/healthz")" = 200 ] || fail "Portico's /healthz does not answer 200"
}

cli() {
  "$portico" "$@" --admin "$admin_url" -c "$config"
}

import_catalog() {  # N
  local n=$1 file="$scratch/catalog-$1.json" t0
  "$python" "$here/bench.py" catalog "$n" "$file"
  t0=$(date +%s.%N)
  cli catalog import "$file" >"$scratch/import-$n.log" || fail "catalog import of $n products failed: $(tail -n 3 "$scratch/import-$n.log")"
  note "imported $n products in $("$python" -c "import sys, time; print(round(time.time() - float(sys.argv[1]), 1))" "$t0") s"
}

# ---------------------------------------------------------------------------------------------
# Measurement

rss_load_peak=0

# One wrk round. SCENARIO PEER CONNECTIONS CATALOG ROUND EXPECT(2xx|error|warmup) URL -- LUA ARGS
round() {
  local scenario=$1 peer=$2 conns=$3 catalog=$4 n=$5 expect=$6 url=$7
  shift 7
  local seconds=$duration raw peak=0 rss json
  [ "$expect" = warmup ] && seconds=$warmup
  raw="$scratch/wrk-$scenario-$peer-c$conns-$catalog-$n.txt"
  wrk -t2 -c"$conns" -d"${seconds}s" --timeout 5s --latency -s "$here/bench.lua" "$url" -- "$@" \
    >"$raw" 2>&1 &
  wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    if [ "$peer" = portico ]; then
      read_rss VmRSS || fail "Portico is gone (during $scenario)"
      [ "$rss" -gt "$peak" ] && peak=$rss
    fi
    read -rt 0.2 -u "$tick" _ || true
  done
  wait "$wrk_pid" || { wrk_pid=""; fail "wrk failed ($scenario, $peer): $(tail -n 5 "$raw")"; }
  wrk_pid=""
  [ "$peer" = portico ] && { kill -0 "$portico_pid" 2>/dev/null || fail "Portico died during $scenario"; }
  [ "$expect" = warmup ] && return 0
  json=$("$python" "$here/bench.py" check "$expect" "$scenario $peer c=$conns round $n" <"$raw") ||
    fail "$scenario against $peer: see above (raw output: $raw)"
  # The 1-minute load average after the round: on a shared machine it tells a noisy round.
  printf '{"kind":"wrk","scenario":"%s","peer":"%s","connections":%d,"catalog":%d,"round":%d,"rss_peak_kb":%d,"loadavg":%s,"wrk":%s}\n' \
    "$scenario" "$peer" "$conns" "$catalog" "$n" "$peak" "$(cut -d' ' -f1 /proc/loadavg)" "$json" >>"$measurements"
  if [ "$peer" = portico ] && [ "$catalog" = "${catalogs[0]}" ] && [ "$peak" -gt "$rss_load_peak" ]; then
    rss_load_peak=$peak
  fi
}

# A/B rounds of one scenario: nginx then Portico, ROUNDS times (Portico only without the peer);
# in (a) at 64 connections the same-response nginx between them.
# SCENARIO CONNECTIONS CATALOG EXPECT WITH_PEER(0|1) PORTICO_KEY PEER_KEY PATH COUNT [LUA MODE]
ab() {
  local scenario=$1 conns=$2 catalog=$3 expect=$4 with_peer=$5 pkey=$6 nkey=$7 path=$8 count=$9
  local luamode=${10:-get} peer_on=0 same_on=0 r
  [ "$with_peer" = 1 ] && [ "$peer_status" = ran ] && peer_on=1
  [ "$peer_on" = 1 ] && [ "$scenario" = product_detail ] && [ "$conns" = "$connections" ] &&
    [ "$same_status" = ran ] && same_on=1
  if [ "$warmup" -gt 0 ]; then
    [ "$peer_on" = 1 ] && round "$scenario" nginx "$conns" "$catalog" 0 warmup "$peer_url" "$luamode" "$nkey" "$path" "$count" warm
    [ "$same_on" = 1 ] && round "$scenario" nginx_same "$conns" "$catalog" 0 warmup "$same_url" "$luamode" "$nkey" "$path" "$count" warm
    round "$scenario" portico "$conns" "$catalog" 0 warmup "$portico_url" "$luamode" "$pkey" "$path" "$count" warm
  fi
  for r in $(seq "$rounds"); do
    [ "$peer_on" = 1 ] && round "$scenario" nginx "$conns" "$catalog" "$r" "$expect" "$peer_url" "$luamode" "$nkey" "$path" "$count" "r$r"
    [ "$same_on" = 1 ] && round "$scenario" nginx_same "$conns" "$catalog" "$r" "$expect" "$same_url" "$luamode" "$nkey" "$path" "$count" "r$r"
    round "$scenario" portico "$conns" "$catalog" "$r" "$expect" "$portico_url" "$luamode" "$pkey" "$path" "$count" "$scenario-$catalog-c$conns-r$r-$$"
  done
}

record() {  # KIND JSON
  printf '{"kind":"%s","result":%s}\n' "$1" "$2" >>"$measurements"
}

# ---------------------------------------------------------------------------------------------

loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "benchmark ($mode): ${duration}s rounds, $rounds per peer, wrk -t2, build $build"
export PORTICO_ADMIN_TOKEN
PORTICO_ADMIN_TOKEN=$("$python" -c 'import secrets; print(secrets.token_hex(24))')
start_peer
start_receiver
start_portico

say "bench partner, key and ${catalogs[0]} products"
partner=$(cli partner add --name "Bench Partner" --tier bench --json | json_field id) ||
  fail "portico partner add failed"
key=$(cli key issue "$partner" --env test --json | json_field key) || fail "portico key issue failed"
import_catalog "${catalogs[0]}"
[ "$(http_status -H "X-API-Key: $key" "$portico_url/v1/products/prod_000001")" = 200 ] ||
  fail "GET /v1/products/prod_000001 with the bench key does not answer 200"
[ "$(http_status -H "X-API-Key: $bad_key" "$portico_url/v1/products/prod_000001")" = 401 ] ||
  fail "a bad key does not answer 401"
start_same_response_peer

wait_quiet 20
read_rss VmRSS || fail "Portico is gone"
rss_idle=$rss
note "RSS idle: $((rss_idle / 1024)) MB"

small=${catalogs[0]}
detail="/v1/products/prod_%06d"

say "(a) GET /v1/products/{id}, ${small} products"
for c in "${conn_levels[@]}"; do
  wait_quiet 10
  ab product_detail "$c" "$small" 2xx 1 "$key" "$peer_key" "$detail" "$small"
done

say "(b) GET /v1/products?limit=20, ${small} products"
wait_quiet 10
ab product_list "$connections" "$small" 2xx 0 "$key" "" "/v1/products?limit=20" 0

say "(c) the 401 path"
wait_quiet 10
ab unauthorized "$connections" "$small" error 1 "$bad_key" "$bad_key" "/v1/products/prod_000001" 0

say "(d) POST /v1/orders"
wait_quiet 10
ab orders "$connections" "$small" 2xx 0 "$key" "" "prod_%06d" "$small" orders
read_rss VmHWM || fail "Portico is gone"
rss_hwm=$rss

if [ -n "$receiver_pid" ]; then
  say "(e) webhook deliveries: $webhook_events events to $receiver_url"
  wait_quiet 20
  endpoint=$(curl -sf --max-time 5 -X POST -H "X-API-Key: $key" -H 'Content-Type: application/json' \
    -d "{\"url\": \"$receiver_url\", \"events\": [\"product.updated\"], \"description\": \"bench\"}" \
    "$portico_url/v1/webhooks" | json_field id) || fail "POST /v1/webhooks failed"
  hooks=$("$python" "$here/bench.py" webhooks --admin "$admin_url" --endpoint "$endpoint" \
    --db "$scratch/portico/portico.db" --receiver-pid "$receiver_pid" \
    --receiver-log "$scratch/receiver/access.log" --catalog "$small" --events "$webhook_events") ||
    fail "webhook scenario"
  record webhooks "$hooks"
  note "$hooks"
  [ "$(http_status -X DELETE -H "X-API-Key: $key" "$portico_url/v1/webhooks/$endpoint")" = 204 ] ||
    note "could not delete the bench webhook endpoint"
fi

rss_large_idle=0 rss_large_load=0
if [ "${#catalogs[@]}" -gt 1 ]; then
  large=${catalogs[1]}
  say "catalog of $large products"
  import_catalog "$large"
  wait_quiet 60
  read_rss VmRSS || fail "Portico is gone"
  rss_large_idle=$rss
  say "(a) and (b) with $large products"
  ab product_detail "$connections" "$large" 2xx 0 "$key" "" "$detail" "$large"
  wait_quiet 10
  ab product_list "$connections" "$large" 2xx 0 "$key" "" "/v1/products?limit=20" 0
  rss_large_load=$("$python" -c '
import json, sys
print(max([m["rss_peak_kb"] for m in map(json.loads, open(sys.argv[1]))
           if m.get("kind") == "wrk" and m["catalog"] == int(sys.argv[2])] or [0]))' "$measurements" "$large")
fi
record rss "$(printf '{"idle_mb":%.1f,"load_mb":%.1f,"hwm_mb":%.1f,"idle_large_catalog_mb":%.1f,"load_large_catalog_mb":%.1f,"note":"idle: after setup, %s products; load: highest VmRSS sampled every 0.2 s during the wrk rounds on %s products; hwm: VmHWM after them; *_large_catalog: the same with %s products"}' \
  "$(awk -v k="$rss_idle" 'BEGIN{print k/1024}')" "$(awk -v k="$rss_load_peak" 'BEGIN{print k/1024}')" \
  "$(awk -v k="$rss_hwm" 'BEGIN{print k/1024}')" "$(awk -v k="$rss_large_idle" 'BEGIN{print k/1024}')" \
  "$(awk -v k="$rss_large_load" 'BEGIN{print k/1024}')" "$small" "$small" "${catalogs[-1]}")"

say "(g) start-up: exec -> /healthz 200"
stop_pid "$portico_pid"; portico_pid=""
startup=$("$python" "$here/bench.py" startup --binary "$portico" --config "$config" --runs "$startup_runs" \
  --set "storage.path=$scratch/portico/portico.db" --set "logging.dir=$scratch/portico/log" \
  --set "plugins.dir=$build/plugins" --log "$scratch/startup.out") || fail "start-up scenario"
fresh=$("$python" "$here/bench.py" startup --binary "$portico" --config "$config" --runs 1 \
  --set "storage.path=$scratch/fresh/portico.db" --set "logging.dir=$scratch/fresh/log" \
  --set "plugins.dir=$build/plugins" --log "$scratch/startup-fresh.out") || fail "start-up scenario (fresh database)"
record startup "$startup"
record startup_fresh "$fresh"
note "existing database: $startup; fresh database: $fresh"

alloc_lib="$build/lib/libportico_alloc_count.so"
if [ -f "$alloc_lib" ]; then
  say "(h) heap allocations per request, $alloc_requests keep-alive requests each"
  start_portico "LD_PRELOAD=$alloc_lib" "PORTICO_ALLOC_COUNT_FILE=$scratch/allocs.bin"
  allocs=$("$python" "$here/bench.py" allocs --port "$public_port" --pid "$portico_pid" \
    --counters "$scratch/allocs.bin" --key "$key" --bad-key "$bad_key" --catalog "$small" \
    --requests "$alloc_requests") || fail "allocation scenario"
  record allocs "$allocs"
  "$python" -c '
import json, sys
for name, r in json.loads(sys.argv[1]).items():
    threads = ", ".join("%s %d" % (t, v["allocations"]) for t, v in list(r["by_thread"].items())[:6])
    print("    %-15s %.2f allocations/request (%.0f bytes), serving threads %.2f; by thread: %s"
          % (name, r["allocations_per_request"], r["bytes_per_request"],
             r["serving_threads_per_request"], threads))' "$allocs" >&2
  stop_pid "$portico_pid"; portico_pid=""
else
  say "(h) SKIPPED: $alloc_lib not built"
fi

say "results"
revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
# --no-optional-locks: read only, never refresh the index of a tree someone is working in
[ -n "$(git -C "$root" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=true
nginx_version=$( (nginx -v 2>&1 || true) | sed 's/^nginx version: //')
"$python" "$here/bench.py" report "$measurements" "$out/$results_name.json" --dat "$scratch/dat" \
  --meta mode="$mode" --meta git_revision="$revision" --meta git_dirty="$dirty" \
  --meta build_dir="$build" --meta duration_s="$duration" --meta rounds="$rounds" \
  --meta connections="$connections" --meta connection_levels="${conn_levels[*]}" \
  --meta catalog_sizes="${catalogs[*]}" --meta peer_status="$peer_status" \
  --meta peer_conf="$peer_conf" --meta loadavg_start="$loadavg_start" \
  --meta wrk_version="$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f2)" --meta nginx_version="$nginx_version" \
  --meta webhook_events="$webhook_events" --meta elapsed_s="$(($(date +%s) - started_at))" ||
  fail "report"

if command -v gnuplot >/dev/null; then
  gnuplot -e "dat='$scratch/dat'; out='$out/$results_name.png'; title='Portico vs nginx ($mode, rev $revision)'" \
    "$here/chart.gp" 2>"$scratch/gnuplot.err" || fail "gnuplot: $(cat "$scratch/gnuplot.err")"
  echo "chart: $out/$results_name.png" >&2
else
  echo "chart skipped: gnuplot not installed (Debian package gnuplot-nox)" >&2
fi
echo "results: $out/$results_name.json ($(($(date +%s) - started_at)) s)" >&2
