#!/usr/bin/env bash
# The README's two commands (and a third for builders):
#   packaging/dev.sh run    install what is missing, build, start the demo gateway
#   packaging/dev.sh test   install what is missing, build, run every test
#   packaging/dev.sh build  install what is missing, build
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build_dir=${PORTICO_BUILD_DIR:-build}

# Debian 12 packages the build and the tests need.
packages=(
  g++ cmake ninja-build ccache pkg-config curl openssl
  libboost1.81-dev libboost-url1.81-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libsodium-dev libsqlite3-dev libssl-dev
  prometheus  # promtool, for the alert rules' unit tests
  wrk nginx-light gnuplot-nox  # tests/bench/run.sh: load generator, the nginx peer, the chart
)

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

build() {
  install_missing
  if [ ! -f "$build_dir/build.ninja" ]; then
    say "configuring $build_dir"
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  say "building"
  cmake --build "$build_dir"
}

# Starts the demo gateway, makes sure the demo partner, its key and the demo catalog exist
# (created once, kept in var/), prints a ready curl, and stays in the foreground until Ctrl-C.
run() {
  build
  export PORTICO_ADMIN_TOKEN=${PORTICO_ADMIN_TOKEN:-dev-admin-token}
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
  curl -s -H 'Authorization: Bearer $PORTICO_ADMIN_TOKEN' http://127.0.0.1:9901/admin/v1/plugins

The demo key is kept in $key_file. Stop with Ctrl-C (in-flight requests are drained first).

MSG
  wait $pid
}

run_tests() {
  build
  say "running tests"
  ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 300
}

case "${1:-}" in
  build) build ;;
  run) run ;;
  test) run_tests ;;
  *) echo "usage: packaging/dev.sh build|run|test" >&2; exit 2 ;;
esac
