#!/usr/bin/env bash
# Every file in configs/ passes `portico check` in the layout it is written for (issue 16):
# portico.toml, dev.toml, bench.toml and cluster.toml from the repository's folder (their relative paths are
# the repository's: var/, build/plugins), with the secrets they read from the environment set.
# staging.toml and production.toml are written for the installed package; tests/package/
# deb_test.sh checks them there. A new file in configs/ must be listed here or there.
#   tests/package/configs_test.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: configs_test.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

repository=(portico.toml dev.toml bench.toml cluster.toml)
installed=(staging.toml production.toml)
for file in configs/*.toml; do
  name=$(basename "$file")
  if [[ " ${repository[*]} ${installed[*]} " != *" $name "* ]]; then
    echo "FAIL: $file is not in configs_test.sh: say which layout it is written for" >&2
    exit 1
  fi
done

export PORTICO_ADMIN_TOKEN PORTICO_KEY_SECRET PORTICO_DATA_KEY
PORTICO_ADMIN_TOKEN=$(openssl rand -hex 24)
PORTICO_KEY_SECRET=$(openssl rand -hex 24)
PORTICO_DATA_KEY=$(openssl rand -hex 32)
# The configs name build/plugins; another build directory (a sanitizer build) stands in for it.
extra=()
[ "$build" != "$root/build" ] && extra=(--set "plugins.dir=$build/plugins")
status=0
for name in "${repository[@]}"; do
  if out=$("$build/bin/portico" check -c "configs/$name" "${extra[@]}" 2>&1); then
    echo "$out"
  else
    echo "FAIL: portico check configs/$name:" >&2
    echo "$out" >&2
    status=1
  fi
done
exit "$status"
