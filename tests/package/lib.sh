# Shared by the tests/package scripts (sourced): a scratch directory removed on exit with the
# gateway started in it, failing with the gateway's last lines, free ports, waiting for /healthz.
# The sourcing script sets `scratch` and `pid` (empty until it starts a gateway).

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$scratch"
}

fail() {
  echo "FAIL: $*" >&2
  [ -f "$scratch/serve.log" ] && tail -n 20 "$scratch/serve.log" >&2
  exit 1
}

# claim_port VAR: sets VAR to a free port for a gateway this script starts, claimed as the C++
# tests' free_port() claims theirs (tests/support/http_client.cpp): below the kernel's ephemeral
# range, so no client socket takes it before the gateway binds it, and held by a lock on
# /tmp/portico-test-ports/<port> until this script exits, so no test running beside it (ctest -j)
# starts a server on the same port — an unclaimed random pick here can take a port a C++ test has
# claimed and not yet bound (the likely cause of one CI run's "Address already in use" in
# integration_on_postgres, with package.deb and package.sdk beside it). Called as `claim_port
# public`, not in a $(...): the lock's file descriptor must stay open in this shell.
claim_port() {
  local dir=/tmp/portico-test-ports port lock=""
  mkdir -p "$dir" 2>/dev/null || true
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 12001))
    if exec {lock}<>"$dir/$port" 2>/dev/null; then
      if ! flock -n "$lock"; then  # another test process (or this script) has it
        exec {lock}>&-
        continue
      fi
    else
      lock=""  # /tmp would not take the file: the bind decides, as in the C++ tests
    fi
    if python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' \
      "$port" 2>/dev/null; then
      printf -v "$1" '%s' "$port"
      return 0
    fi
    [ -n "$lock" ] && exec {lock}>&-
  done
  fail "no free port between 20000 and 32000"
}

# wait_healthy PORT: until the gateway ($pid) answers /healthz 200 on PORT, at most 10 s.
wait_healthy() {
  local status=000
  for _ in $(seq 100); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz" || true)
    [ "$status" = 200 ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "the gateway exited"
    sleep 0.1
  done
  fail "/healthz answered $status"
}
