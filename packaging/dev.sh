#!/usr/bin/env bash
# The README's two commands (and a third for builders):
#   packaging/dev.sh run    install what is missing, build, start the demo gateway
#   packaging/dev.sh test   install what is missing, build, run every test
#                           (--sanitize address,undefined | thread: in build-sanitize-*/)
#   packaging/dev.sh build  install what is missing, build everything
#                           (--pgo: the profile-guided build, in build-pgo/)
#   packaging/dev.sh package  the profile-guided build, then the Debian packages portico and
#                             portico-dev (cpack; --no-pgo: from the ordinary build)
#   packaging/dev.sh bench  the profile-guided build, then tests/bench/run.sh against it
#   packaging/dev.sh cluster  install what is missing, build, start PostgreSQL, Redis, three
#                             gateway nodes and haproxy in front (packaging/cluster.sh)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build_dir=${PORTICO_BUILD_DIR:-build}

# Debian 12 packages the gateway's build needs (all `run` installs)...
packages=(
  g++ cmake ninja-build ccache pkg-config curl openssl
  libboost1.81-dev libboost-url1.81-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libsodium-dev libsqlite3-dev libssl-dev
  liburing-dev  # core/http/io_batch: a loop's ready responses in one system call
  libhiredis-dev  # plugins/ratelimit_redis
  libpq-dev  # plugins/store_postgres
)
# ...and those only the tests and the packages need (`test`, `build`, `package`).
test_packages=(
  prometheus  # promtool, for the alert rules' unit tests
  wrk nginx-light gnuplot-nox  # tests/bench/run.sh: load generator, the nginx peer, the chart
  python3 lintian fakeroot systemd  # tests/package: the .deb checked and run from a scratch root
  redis-server  # ratelimit_redis tests start their own on a free loopback port
  postgresql-15  # store_postgres tests and integration_on_postgres start their own (initdb)
  haproxy  # the cluster test's round-robin front
)
# ...and those `cluster` needs besides the gateway's (packaging/cluster.sh).
cluster_packages=(postgresql-15 redis-server haproxy)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

cmake_extra=()  # more -D options for a new build directory (test --sanitize)

# compile [TARGET...]: builds those targets of $build_dir, or everything.
compile() {
  cmake --build "$build_dir" ${1:+--target} "$@"
}

# build [TARGET...]: everything by default; `run` builds only the gateway and its plugins.
build() {
  [ $# -eq 0 ] && packages+=("${test_packages[@]}")
  install_missing
  if [ ! -f "$build_dir/build.ninja" ]; then
    say "configuring $build_dir"
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_extra[@]}" >/dev/null
  fi
  say "building${1:+ $*}"
  compile "$@"
}

# build_pgo [TARGET...]: the profile-guided build in build-pgo/ (docs/performance.md "The
# profile-guided build"): the gateway and its plugins built instrumented, trained by the benchmark's
# scenarios against the gateway itself for about half a minute (tests/bench/run.sh --quick --no-peer:
# product reads, the list, 401s, orders, webhooks, start-ups), then everything asked for (default:
# everything) rebuilt with the profile. Both stages in the same directory: the profile's file names
# are the objects' paths. Each build trains afresh: a profile of older code would mislead.
build_pgo() {
  build_dir=${PORTICO_BUILD_DIR:-build-pgo}
  packages+=(wrk python3 nginx-light)  # the training run's load, its helper and webhook receiver
  [ $# -eq 0 ] && packages+=("${test_packages[@]}")  # everything: the tests too
  install_missing
  local profile
  profile=$(mkdir -p "$build_dir" && cd "$build_dir" && pwd)/pgo-profile
  rm -rf "$profile"
  say "configuring $build_dir for the instrumented build"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPORTICO_PGO=generate -DPORTICO_PGO_DIR="$profile" >/dev/null
  say "building the gateway and its plugins instrumented"
  cmake --build "$build_dir" --target portico portico_plugins
  say "training: the benchmark's scenarios against the instrumented gateway"
  tests/bench/run.sh --quick --no-peer --duration 2 --build "$build_dir" \
    --out "$build_dir/pgo-training" >"$build_dir/pgo-training.log" 2>&1 ||
    { tail -n 20 "$build_dir/pgo-training.log" >&2; echo "build --pgo: the training run failed (log: $build_dir/pgo-training.log)" >&2; exit 1; }
  local counts
  counts=$(find "$profile" -name '*.gcda' 2>/dev/null | wc -l)
  [ "$counts" -gt 0 ] || { echo "build --pgo: the training run wrote no profile to $profile" >&2; exit 1; }
  say "profile: $counts object files' counts; rebuilding with them"
  cmake -S . -B "$build_dir" -DPORTICO_PGO=use >/dev/null
  compile "$@"
}

# The Debian packages: build-pgo/packages/portico_<version>_amd64.deb and
# portico-dev_<version>_all.deb, from the profile-guided build once every test has passed on it
# (the tests otherwise run on build/: the profile changes how the code is compiled, so the build
# that ships is tested itself). --no-pgo: from the ordinary build, into build/packages/.
package() {  # [--no-pgo]
  if [ "${1:-}" = --no-pgo ]; then
    build
  else
    build_pgo
    say "running every test on the profile-guided build"
    ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 300
  fi
  say "packaging"
  (cd "$build_dir" && cpack -B packages >/dev/null)
  ls -1 "$build_dir"/packages/*.deb
}

# bench [run.sh options]: the profile-guided build, then tests/bench/run.sh against it — the
# build the packages ship. (tests/bench/run.sh --build build measures the ordinary one.)
bench() {
  build_pgo portico portico_plugins portico_alloc_count
  packages+=("${test_packages[@]}")
  install_missing
  tests/bench/run.sh --build "$build_dir" "$@"
}

# Starts the demo gateway, makes sure the demo partner, its key and the demo catalog exist
# (created once, kept in var/), prints a ready curl, and stays in the foreground until Ctrl-C.
run() {
  build portico portico_plugins
  # Without PORTICO_ADMIN_TOKEN the demo config's fallback token is in force (serve warns about it);
  # the CLI below reads the same token from the config.
  local admin_token=${PORTICO_ADMIN_TOKEN:-} token_note
  if [ -z "$admin_token" ]; then
    admin_token=dev-admin-token
    token_note="$admin_token — the demo fallback from configs/portico.toml, because PORTICO_ADMIN_TOKEN is not set; set it for anything but a local demo"
  else
    token_note="from PORTICO_ADMIN_TOKEN"
  fi
  export PORTICO_CONFIG=configs/portico.toml
  local portico="$build_dir/bin/portico"
  mkdir -p var/log
  "$portico" check
  "$portico" serve &
  local pid=$!
  trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit 0' INT TERM
  for _ in $(seq 100); do
    curl -fs http://127.0.0.1:8080/healthz >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || { wait $pid; exit $?; }
    sleep 0.1
  done

  local key_file=var/demo-key.txt key=""
  [ -f "$key_file" ] && key=$(cat "$key_file")
  if [ -z "$key" ] || [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" \
       http://127.0.0.1:8080/v1/usage)" = "401" ]; then
    say "creating the demo partner and its API key"
    local partner
    # Partner names are unique: a demo partner kept in var/ (its key file lost) is reused.
    partner=$("$portico" partner list --json | awk -F'"' \
      '/"id": "ptr_/ {id=$4} /"name": "Demo Partner"/ && !found {print id; found=1}')
    [ -n "$partner" ] ||
      partner=$("$portico" partner add --name "Demo Partner" --tier premium --json |
                sed -n 's/.*"id": *"\(ptr_[^"]*\)".*/\1/p' | head -1)
    key=$("$portico" key issue "$partner" --env test --json |
          sed -n 's/.*"key": *"\(pk_test_[^"]*\)".*/\1/p' | head -1)
    (umask 077; printf '%s\n' "$key" > "$key_file")
  fi
  if [ -f configs/demo/catalog.json ] && "$portico" plugins | grep -q '^routes_products '; then
    if [ "$(curl -s -H "X-API-Key: $key" 'http://127.0.0.1:8080/v1/products?limit=1' |
            grep -c '"id"')" = "0" ]; then
      say "importing the demo catalog"
      "$portico" catalog import configs/demo/catalog.json >/dev/null
    fi
  fi

  cat >&2 <<MSG

Portico is running on http://127.0.0.1:8080 (admin API on 127.0.0.1:9901). Try:

  curl -s -H 'X-API-Key: $key' 'http://127.0.0.1:8080/v1/products?limit=3'
  curl -s -H 'X-API-Key: $key' http://127.0.0.1:8080/v1/usage
  curl -s -H 'Authorization: Bearer $admin_token' http://127.0.0.1:9901/admin/v1/plugins

Admin token: $token_note.
Admin actions are audited in var/log/audit-$(date -u +%F).log.

The demo key is kept in $key_file. Stop with Ctrl-C (in-flight requests are drained first).

MSG
  wait $pid
}

# test [--sanitize address,undefined | --sanitize thread]: with a sanitizer, everything is built in
# a build directory of its own (build-sanitize-<list>) and any report fails the test that made it.
run_tests() {
  local sanitize="" timeout=300
  while [ $# -gt 0 ]; do
    case "$1" in
      --sanitize) sanitize=${2:-}; shift 2 || { echo "test: --sanitize needs a value" >&2; exit 2; } ;;
      --sanitize=*) sanitize=${1#*=}; shift ;;
      *) echo "test: unknown option '$1' (usage: packaging/dev.sh test [--sanitize address,undefined|thread])" >&2; exit 2 ;;
    esac
  done
  case "$sanitize" in
    "") ;;
    address|undefined|address,undefined|undefined,address|thread)
      build_dir=${PORTICO_BUILD_DIR:-build-sanitize-${sanitize//,/-}}
      cmake_extra=(-DPORTICO_SANITIZE="$sanitize")
      timeout=900
      export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
      export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
      export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
      ;;
    *) echo "test: --sanitize takes address,undefined or thread, not '$sanitize'" >&2; exit 2 ;;
  esac
  build
  say "running tests${sanitize:+ with -fsanitize=$sanitize}"
  ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout "$timeout"
}

# Debian 12 packages only `fuzz` needs: clang with libFuzzer and the sanitizer runtimes.
fuzz_packages=(clang-14 libclang-rt-14-dev)

# fuzz [SECONDS] [libFuzzer options...]: builds the fuzz targets (tests/fuzz, docs/security.md
# "Fuzzing") with clang, libFuzzer, ASan and UBSan in build-fuzz/ and runs each for SECONDS
# (default 600) from its committed corpus; new inputs go to build-fuzz/fuzz-work/<target>/corpus.
# Stops at the first crash, naming the reproducer; ends with a table of executions, speed,
# coverage (libFuzzer's cov: and ft:) and crashes. FUZZ_TARGETS="json_bodies cursor" runs only
# those. Extra options go to every run, e.g. `fuzz 600 -runs=1000000`.
run_fuzz() {
  local seconds=${1:-600}
  [ $# -gt 0 ] && shift
  case "$seconds" in
    '' | *[!0-9]* | 0) echo "usage: packaging/dev.sh fuzz [SECONDS] [libFuzzer options...]" >&2; exit 2 ;;
  esac
  packages+=("${fuzz_packages[@]}")
  install_missing
  local dir=${PORTICO_FUZZ_BUILD_DIR:-build-fuzz}
  if [ ! -f "$dir/build.ninja" ]; then
    say "configuring $dir (clang-14, libFuzzer, ASan, UBSan)"
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++-14 -DPORTICO_FUZZ=ON >/dev/null
  fi
  say "building the fuzz targets"
  cmake --build "$dir" --target portico_fuzz_targets

  local -a rows=()
  local name binary max_len
  while read -r name binary max_len; do
    [ -n "$name" ] || continue
    if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
    local work="$dir/fuzz-work/$name" dict="tests/fuzz/$name/$name.dict"
    mkdir -p "$work/corpus" "$work/artifacts"
    local -a options=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10
                      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
    [ -f "$dict" ] && options+=(-dict="$dict")
    say "fuzzing $name for ${seconds}s (log: $work/fuzz.log)"
    local status=0
    nice "$binary" "${options[@]}" "$@" "$work/corpus" "tests/fuzz/$name/corpus" \
      >"$work/fuzz.log" 2>&1 || status=$?
    local runs speed cov ft
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)
    cov=$(grep -o ' cov: [0-9]*' "$work/fuzz.log" | tail -1 | tr -dc 0-9 || true)
    ft=$(grep -o ' ft: [0-9]*' "$work/fuzz.log" | tail -1 | tr -dc 0-9 || true)
    if [ "$status" -ne 0 ]; then
      local reproducer
      reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/fuzz.log" | tail -1)
      grep -E 'FUZZ FINDING|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|SUMMARY:' \
        "$work/fuzz.log" | head -5 >&2 || true
      say "$name: CRASH (exit $status); reproducer: ${reproducer:-none written, see $work/fuzz.log}"
      echo "Replay it: $binary ${reproducer:-<input>}" >&2
      exit 1
    fi
    rows+=("$name|${runs:-?}|${speed:-?}|${cov:-?}|${ft:-?}|0")
  done <"$dir/fuzz_targets.txt"

  [ ${#rows[@]} -gt 0 ] || { echo "fuzz: no target matches FUZZ_TARGETS='${FUZZ_TARGETS:-}'" >&2; exit 2; }
  printf '\n%-18s %12s %8s %7s %8s %8s\n' target executions exec/s cov ft crashes
  local row
  for row in "${rows[@]}"; do
    IFS='|' read -r name runs speed cov ft crashes <<<"$row"
    printf '%-18s %12s %8s %7s %8s %8s\n' "$name" "$runs" "$speed" "$cov" "$ft" "$crashes"
  done
}

case "${1:-}" in
  build)
    case "${2:-}${3+ $3}" in
      "") build ;;
      --pgo) build_pgo ;;
      *) echo "build: unknown option '${*:2}' (usage: packaging/dev.sh build [--pgo])" >&2; exit 2 ;;
    esac ;;
  package)
    case "${2:-}${3+ $3}" in
      "" | --no-pgo) package "${2:-}" ;;
      *) echo "package: unknown option '${*:2}' (usage: packaging/dev.sh package [--no-pgo])" >&2; exit 2 ;;
    esac ;;
  bench) shift; bench "$@" ;;
  run) run ;;
  test) shift; run_tests "$@" ;;
  fuzz) shift; run_fuzz "$@" ;;
  cluster) . "$root/packaging/cluster.sh"; cluster ;;
  *) echo "usage: packaging/dev.sh run|test|build [--pgo]|package [--no-pgo]|bench|fuzz|cluster" >&2; exit 2 ;;
esac
