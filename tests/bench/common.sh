# shellcheck shell=bash disable=SC2154,SC2034  # python, fail_prefix: the sourcing script's; the options' variables are the sourcing script's
# Shared by tests/bench/run.sh and tests/bench/cluster.sh (sourced): messages, stopping a process,
# the end of cleanup(), free ports, HTTP status codes and JSON fields. Only functions: the sourcing
# script sets, before it calls them,
#   python         the Python interpreter (free_port, json_field)
#   fail_prefix    what fail() prints before ": FAILED:" ("bench", "cluster bench")
#   stop_pid_cont  1: stop_pid sends SIGCONT first (run.sh: a paused receiver must see the signal);
#                  unset: it does not (cluster.sh)

# The options both scripts take. common_option ARG [VALUE]: sets quick, build, out, duration,
# rounds or keep from it, and `taken` to how many arguments it used (0: not one of these).
common_option() {
  taken=1
  case "$1" in
    --quick) quick=1 ;;
    --build) build=${2:?--build needs a directory}; taken=2 ;;
    --out) out=${2:?--out needs a directory}; taken=2 ;;
    --duration) duration=${2:?--duration needs seconds}; taken=2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; taken=2 ;;
    --keep) keep=1 ;;
    *) taken=0 ;;
  esac
}

# After the defaults are applied: --duration and --rounds must be whole numbers (exit 2).
check_whole_numbers() {  # SCRIPT_NAME
  case "$duration$rounds" in
    *[!0-9]*) echo "$1: --duration and --rounds take whole numbers" >&2; exit 2 ;;
  esac
}

say() { printf '\033[1m==> [%3ds] %s\033[0m\n' "$SECONDS" "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
fail() { printf '\033[1;31m%s: FAILED: %s\033[0m\n' "$fail_prefix" "$*" >&2; exit 1; }

stop_pid() {  # PID [SIGNAL]: signal it, wait up to 5 s, then SIGKILL
  local pid=$1 sig=${2:-TERM}
  if [ "${stop_pid_cont:-0}" = 1 ]; then
    kill -CONT "$pid" 2>/dev/null || true  # a paused receiver must see the signal
  fi
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

keep_or_remove_scratch() {  # KEEP(0|1, --keep) DIR: the end of cleanup(), for the scratch directory
  if [ "$1" = 1 ]; then
    echo "scratch directory kept: $2" >&2
  else
    rm -rf "$2"
  fi
}

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

http_status() {  # curl's status code for URL (extra curl args first)
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true
}

json_field() {  # FIELD < json
  "$python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
