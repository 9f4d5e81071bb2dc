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

run() {
  build
  export PORTICO_ADMIN_TOKEN=${PORTICO_ADMIN_TOKEN:-dev-admin-token}
  local config=configs/portico.toml
  mkdir -p var/log
  "$build_dir/bin/portico" check -c "$config"
  "$build_dir/bin/portico" migrate -c "$config" >/dev/null
  cat >&2 <<MSG

Portico is starting on http://127.0.0.1:8080 (admin API on 127.0.0.1:9901). Try:

  curl -i http://127.0.0.1:8080/v1/hello
  curl -s -H 'Authorization: Bearer $PORTICO_ADMIN_TOKEN' http://127.0.0.1:9901/admin/v1/plugins

Stop it with Ctrl-C (it drains in-flight requests first).

MSG
  exec "$build_dir/bin/portico" serve -c "$config"
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
