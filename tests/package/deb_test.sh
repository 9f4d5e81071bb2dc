#!/usr/bin/env bash
# The Debian packages as an operator gets them (issue 16; docs/operators.md "The Debian package"):
# built with cpack from the build tree, checked by lintian and systemd-analyze, unpacked into a
# scratch root (dpkg-deb -x), and the packaged binary run against the packaged configuration —
# only the data and log directories and the listen addresses moved into the scratch directory —
# until /healthz answers 200 and a partner's key reads a product.
#   tests/package/deb_test.sh BUILD_DIR
# Exit 77 (skipped) when cpack or dpkg-deb is missing.
set -euo pipefail

build=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in cpack dpkg-deb curl python3; do
  command -v "$tool" >/dev/null || { echo "SKIPPED: $tool not found"; exit 77; }
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/portico-deb.XXXXXX")
pid=""
# shellcheck source=tests/package/lib.sh
. "$root/tests/package/lib.sh"
trap cleanup EXIT

echo "== cpack"
(cd "$build" && cpack -B "$scratch/out" >"$scratch/cpack.log" 2>&1) || { cat "$scratch/cpack.log" >&2; fail "cpack"; }
version=$(sed -n 's/^project(portico VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
deb="$scratch/out/portico_${version}_amd64.deb"
dev="$scratch/out/portico-dev_${version}_all.deb"
[ -f "$deb" ] || fail "no $deb (cpack wrote: $(ls "$scratch/out"))"
[ -f "$dev" ] || fail "no $dev"

echo "== package contents"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/portico ./usr/lib/portico/plugins/auth_api_key.so \
            ./usr/lib/portico/plugins/routes_products.so ./etc/portico/portico.toml \
            ./etc/portico/staging.toml ./etc/portico/production.toml \
            ./lib/systemd/system/portico.service ./usr/share/man/man1/portico.1.gz; do
  grep -qx "$path" <<<"$contents" || fail "$path is not in the package"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/portico/portico.toml || fail "portico.toml is not a conffile"
for script in postinst prerm postrm; do
  dpkg-deb -I "$deb" "$script" >"$scratch/$script" || fail "no $script"
  sh -n "$scratch/$script" || fail "$script does not parse"
done
dpkg-deb -c "$dev" | awk '{print $6}' | grep -qx ./usr/share/cmake/Portico/PorticoConfig.cmake ||
  fail "portico-dev has no CMake package"

if command -v lintian >/dev/null; then
  echo "== lintian"
  lintian --tag-display-limit 0 "$deb" "$dev" 2>&1 | grep -v 'running with root privileges' >"$scratch/lintian.log" || true
  if [ -s "$scratch/lintian.log" ]; then cat "$scratch/lintian.log" >&2; fail "lintian reported the above"; fi
else
  echo "lintian not installed: not run (packaging/dev.sh installs it)"
fi

echo "== unpack"
dpkg-deb -x "$deb" "$scratch/root"
r="$scratch/root"

if command -v systemd-analyze >/dev/null; then
  echo "== systemd-analyze verify"
  # The unit names /usr/bin/portico, which is not installed here: verify a copy that names the
  # unpacked binary, nothing else changed.
  sed "s|/usr/bin/portico|$r/usr/bin/portico|g" "$r/lib/systemd/system/portico.service" \
    >"$scratch/portico.service"
  systemd-analyze verify "$scratch/portico.service" >"$scratch/verify.log" 2>&1 ||
    { cat "$scratch/verify.log" >&2; fail "systemd-analyze verify"; }
  if [ -s "$scratch/verify.log" ]; then cat "$scratch/verify.log" >&2; fail "systemd-analyze verify warned"; fi
fi

export PORTICO_ADMIN_TOKEN PORTICO_KEY_SECRET PORTICO_DATA_KEY
PORTICO_ADMIN_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
PORTICO_KEY_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
PORTICO_DATA_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
mkdir -p "$scratch/data" "$scratch/log"
moved=(--set "plugins.dir=$r/usr/lib/portico/plugins" --set "storage.path=$scratch/data/portico.db"
       --set "logging.dir=$scratch/log")

echo "== portico check, every packaged configuration"
for config in portico.toml staging.toml production.toml; do
  "$r/usr/bin/portico" check -c "$r/etc/portico/$config" "${moved[@]}" >"$scratch/check.log" 2>&1 ||
    { cat "$scratch/check.log" >&2; fail "portico check $config"; }
done

echo "== serve the packaged configuration"
public="" admin=""  # claim_port sets them
claim_port public
claim_port admin
# The packaged configuration logs at warn: no "listening" line to wait for; /healthz tells.
"$r/usr/bin/portico" serve -c "$r/etc/portico/portico.toml" "${moved[@]}" \
  --set "server.listen=127.0.0.1:$public" --set "admin.listen=127.0.0.1:$admin" \
  >"$scratch/serve.log" 2>&1 &
pid=$!
wait_healthy "$public"

cli() { "$r/usr/bin/portico" "$@" --admin "http://127.0.0.1:$admin" -c "$r/etc/portico/portico.toml"; }
partner=$(cli partner add --name "Package Test" --tier basic --json |
          python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])') || fail "partner add"
key=$(cli key issue "$partner" --env live --json |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])') || fail "key issue"
python3 "$root/tests/bench/bench.py" catalog 3 "$scratch/catalog.json"
cli catalog import "$scratch/catalog.json" >/dev/null || fail "catalog import"
status=$(curl -s -o "$scratch/product.json" -w '%{http_code}' -H "X-API-Key: $key" \
  "http://127.0.0.1:$public/v1/products/prod_000002")
[ "$status" = 200 ] || fail "GET /v1/products/prod_000002 answered $status: $(cat "$scratch/product.json")"
grep -q '"prod_000002"' "$scratch/product.json" || fail "the product read does not show the product"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$public/v1/products/prod_000002")
[ "$status" = 401 ] || fail "a read without a key answered $status"
echo "PASS: $(basename "$deb") and $(basename "$dev"): lintian clean, unit verified, packaged gateway served /healthz and an authenticated product read"
