#!/usr/bin/env bash
# The plugin SDK as an internal team gets it (issue 16; docs/plugins.md "Out-of-tree plugins"):
# installed into a temporary prefix (the portico-dev component), examples/out_of_tree_plugin
# configured and built there against it as a project of its own, its unit test run on the fake
# host, and the plugin loaded into a running gateway hot — copied into plugins.dir, enabled in
# the configuration, `portico reload` — and its route called.
#   tests/package/sdk_test.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: sdk_test.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in cmake curl python3; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool not found"; exit 77; }
done
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/portico-sdk.XXXXXX")
pid=""
# shellcheck source=tests/package/lib.sh
. "$root/tests/package/lib.sh"
trap cleanup EXIT

echo "== install the SDK into $scratch/prefix"
cmake --install "$build" --component sdk --prefix "$scratch/prefix" >"$scratch/install.log" ||
  { cat "$scratch/install.log" >&2; fail "cmake --install --component sdk"; }
[ -f "$scratch/prefix/share/cmake/Portico/PorticoConfig.cmake" ] || fail "no CMake package installed"
[ -f "$scratch/prefix/include/portico/sdk/testing.hpp" ] || fail "no fake host installed"

echo "== build examples/out_of_tree_plugin against it"
# A copy outside the repository: nothing of the gateway's tree is on its include path.
cp -r "$root/examples/out_of_tree_plugin" "$scratch/example"
cmake -S "$scratch/example" -B "$scratch/example/build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$scratch/configure.log" 2>&1 ||
  { cat "$scratch/configure.log" >&2; fail "configure the example"; }
cmake --build "$scratch/example/build" >"$scratch/build.log" 2>&1 ||
  { tail -n 30 "$scratch/build.log" >&2; fail "build the example"; }
ctest --test-dir "$scratch/example/build" --output-on-failure >"$scratch/ctest.log" 2>&1 ||
  { cat "$scratch/ctest.log" >&2; fail "the example's unit test"; }
plugin="$scratch/example/build/greeter.so"
[ -f "$plugin" ] || fail "no greeter.so"

echo "== find_package(Portico 4) is refused: the SDK is API 3"
mkdir -p "$scratch/wrong"
cat >"$scratch/wrong/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(wrong LANGUAGES CXX)
find_package(Portico 4 REQUIRED)
CMAKE
if cmake -S "$scratch/wrong" -B "$scratch/wrong/build" -DCMAKE_PREFIX_PATH="$scratch/prefix" \
     >"$scratch/wrong.log" 2>&1; then
  fail "find_package(Portico 4) succeeded against an API 3 SDK"
fi
grep -q "3.2.0" "$scratch/wrong.log" || { cat "$scratch/wrong.log" >&2; fail "the refusal does not name the SDK's version"; }

echo "== load it into a running gateway with a reload"
public="" admin=""  # claim_port sets them
claim_port public
claim_port admin
mkdir -p "$scratch/plugins" "$scratch/data" "$scratch/log"
cp "$build"/plugins/*.so "$scratch/plugins/"
config="$scratch/portico.toml"
cat >"$config" <<TOML
[server]
listen = "127.0.0.1:$public"
[admin]
listen = "127.0.0.1:$admin"
token = "\${PORTICO_ADMIN_TOKEN}"
[storage]
path = "$scratch/data/portico.db"
[logging]
dir = "$scratch/log"
[plugins]
dir = "$scratch/plugins"
[plugins.hello]
TOML
export PORTICO_ADMIN_TOKEN
PORTICO_ADMIN_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
"$build/bin/portico" serve -c "$config" >"$scratch/serve.log" 2>&1 &
pid=$!
wait_healthy "$public"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$public/v1/greeter")
[ "$status" = 404 ] || fail "/v1/greeter answered $status before the plugin was loaded"

cp "$plugin" "$scratch/plugins/greeter.so"
printf '[plugins.greeter]\ngreeting = "Welcome"\n' >>"$config"
"$build/bin/portico" reload -c "$config" >"$scratch/reload.log" 2>&1 ||
  { cat "$scratch/reload.log" >&2; fail "portico reload"; }
answer=$(curl -s "http://127.0.0.1:$public/v1/greeter?name=Acme")
grep -q '"Welcome, Acme"' <<<"$answer" || fail "/v1/greeter answered: $answer"
kill -0 "$pid" 2>/dev/null || fail "the gateway exited"
echo "PASS: SDK installed, out-of-tree plugin built and unit-tested, loaded by reload, /v1/greeter answered"
