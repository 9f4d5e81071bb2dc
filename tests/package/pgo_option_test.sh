#!/usr/bin/env bash
# The profile-guided build's option (CMakeLists.txt PORTICO_PGO, packaging/dev.sh build --pgo)
# refuses what it cannot build, naming what is wrong, before anything is compiled: a stage that is
# not generate or use, `use` without a profile, and PGO together with a sanitizer. (The two stages
# themselves are a full build each: `packaging/dev.sh build --pgo` runs them, docs/performance.md.)
#   tests/package/pgo_option_test.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/portico-pgo-option.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# expect_refused NAME MESSAGE -D...: cmake's configure fails and says MESSAGE.
expect_refused() {
  local name=$1 message=$2 out
  shift 2
  if out=$(cmake -S "$root" -B "$scratch/$name" -G Ninja "$@" 2>&1); then
    echo "FAIL: $name: cmake accepted $*" >&2
    exit 1
  fi
  if ! grep -qF "$message" <<<"$(tr -s ' \n' ' ' <<<"$out")"; then
    echo "FAIL: $name: cmake's error does not say '$message':" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "ok: $name refused: $message"
}

expect_refused bad-stage "PORTICO_PGO is generate, use or empty, not 'yes'" -DPORTICO_PGO=yes
mkdir -p "$scratch/empty-profile"
expect_refused use-without-profile "PORTICO_PGO=use: no profile (*.gcda) in $scratch/empty-profile" \
  -DPORTICO_PGO=use -DPORTICO_PGO_DIR="$scratch/empty-profile"
expect_refused with-sanitizer "PORTICO_PGO and PORTICO_SANITIZE do not go together" \
  -DPORTICO_PGO=generate -DPORTICO_SANITIZE=address
