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

# Below the kernel's ephemeral range, so no client socket takes it before the gateway binds it
# (tests/support/http_client.cpp, free_port()).
free_port() {
  python3 -c '
import random, socket
for _ in range(200):
    port = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port between 20000 and 32000")'
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
