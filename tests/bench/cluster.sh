#!/usr/bin/env bash
# Portico on SQLite vs PostgreSQL, one node vs three behind haproxy: scenario (a) product detail
# and (d) orders of tests/bench/run.sh, the three set-ups in one run, alternating rounds, and a
# profile of the PostgreSQL order path. See `cluster.sh --help`.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tests/bench/cluster.sh [--quick] [--build DIR] [--out DIR] [options]

Starts, on 127.0.0.1 and in a scratch directory:
  - a throwaway PostgreSQL (initdb in the scratch directory, a free port; durable: fsync=on,
    synchronous_commit=on, full_page_writes=on; shared_buffers=256MB, max_connections=200;
    pg_stat_statements loaded for the profile),
  - sqlite-1:   one Portico node on configs/bench.toml (SQLite), as run.sh starts it,
  - postgres-1: one node on configs/bench.toml with storage.backend="postgres" and
                [plugins.store_postgres] pool_size=16,
  - postgres-3: three nodes on configs/bench.toml with storage.backend="postgres",
                server.threads=1 and pool_size=8 (as configs/cluster.toml), one shared database,
                behind haproxy round-robin (http-reuse always; health checks on each node's admin
                /readyz); wrk drives haproxy,
then drives each with wrk -t2 -c64 (bench.lua), alternating rounds (sqlite-1, postgres-1,
postgres-3, sqlite-1, ...), and reports the median per set-up:

  (a) GET /v1/products/{id}, 1,000 products, API key + rate limit
  (d) POST /v1/orders, a unique Idempotency-Key per request

Then one more (d) round against postgres-1 (not counted in the medians) is profiled: perf record
-g -e cpu-clock on Portico and the PostgreSQL processes for 5 s (when perf works), the CPU split
per process group from /proc, pg_stat_activity wait events sampled every 100 ms, WAL syncs
(pg_stat_wal) and the statements (pg_stat_statements) per order.

Writes OUT/cluster.json and OUT/cluster-profile.txt (cluster-quick.json and
cluster-quick-profile.txt with --quick), and
prints the table. Exit status 0 when every round ran, 1 on a failure, 77 when a tool is missing
(wrk, curl, python3, haproxy, PostgreSQL's initdb/pg_ctl/psql).

Options:
  --quick          smoke test: 2 rounds of 2 s, no warm-up (under 2 minutes)
  --build DIR      build tree with bin/portico and plugins/ (default: build)
  --out DIR        where results go (default: DIR/bench of --build)
  --duration S     seconds per wrk round (default: 8; --quick: 2)
  --rounds N       rounds per set-up and scenario (default: 3; --quick: 2)
  --no-profile     skip the profiled round
  --keep           keep the scratch directory (logs, raw wrk output, perf.data) and print its path
  -h, --help       show this help
EOF
}

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/bench"
config="$root/configs/bench.toml"

# common.sh: common_option, check_whole_numbers, say, note, fail, stop_pid, keep_or_remove_scratch,
# free_port, http_status, json_field
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"

quick=0
build="$root/build"
out=""
duration=""
rounds=""
profile=1
keep=0
while [ $# -gt 0 ]; do
  common_option "$@"
  if [ "$taken" -gt 0 ]; then
    shift "$taken"
    continue
  fi
  case "$1" in
    --no-profile) profile=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "cluster.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then
  mode=quick; duration=${duration:-2}; rounds=${rounds:-2}; warmup=0; results_name=cluster-quick
else
  mode=full; duration=${duration:-8}; rounds=${rounds:-3}; warmup=2; results_name=cluster
fi
check_whole_numbers cluster.sh
connections=64
catalog=1000
profile_seconds=5               # perf record's window
profile_round=$((profile_seconds + 2))  # the profiled wrk round: 1 s before perf, 1 s after
setups=(sqlite-1 postgres-1 postgres-3)

# What common.sh's functions read from this script:
# shellcheck disable=SC2034  # common.sh's fail prints it
fail_prefix="cluster bench"
skip() { echo "SKIPPED: $*" >&2; exit 77; }

for tool in wrk curl python3 haproxy; do
  command -v "$tool" >/dev/null || skip "$tool not found (Debian package $tool)"
done
pg_bin=""
if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
  pg_bin=$(pg_config --bindir)
else
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    [ -x "$d/initdb" ] && { pg_bin=$d; break; }
  done
fi
for tool in initdb pg_ctl postgres createdb psql; do
  [ -n "$pg_bin" ] && [ -x "$pg_bin/$tool" ] || skip "PostgreSQL's $tool not found (Debian package postgresql-15)"
done
python=$(python3 -c 'import sys; print(sys.executable)')
# The throwaway server is ours alone: no PG* variable of the caller's may redirect a tool.
while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p')

build=$(cd "$build" 2>/dev/null && pwd) || fail "no build directory '$build'"
portico="$build/bin/portico"
[ -x "$portico" ] || fail "no $portico: build first (flock /tmp/portico-build.lock cmake --build build --target portico portico_plugins)"
[ -f "$build/plugins/store_postgres.so" ] || fail "no $build/plugins/store_postgres.so"
out=${out:-$build/bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/portico-cluster-bench.XXXXXX")
chmod 755 "$scratch"  # the postgres user reads its data directory below it
measurements="$scratch/measurements.jsonl"
: >"$measurements"
helper="$scratch/helper.py"
started_at=$(date +%s)

# ---------------------------------------------------------------------------------------------
# Processes: every one started here is stopped by cleanup(), also on failure and Ctrl-C.

declare -A node_pid=() node_out=()
haproxy_pid="" wrk_pid="" sampler_pid="" perf_pid="" pg_started=0 pg_data="" pg_dir=""

as_pg() {  # runs a PostgreSQL server-side tool as the postgres user when we are root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- env LC_ALL=C "$@"; else env LC_ALL=C "$@"; fi
}

stop_postgres() {
  [ "$pg_started" = 1 ] || return 0
  pg_started=0
  local postmaster=""
  [ -f "$pg_data/postmaster.pid" ] && postmaster=$(head -n 1 "$pg_data/postmaster.pid")
  if ! as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 20 stop >>"$pg_dir/pg_ctl.log" 2>&1; then
    echo "pg_ctl stop failed; killing the postmaster ($postmaster)" >&2
    if [ -n "$postmaster" ]; then
      kill -KILL "$postmaster" 2>/dev/null || true
      sleep 0.5
      # its children (backends, walwriter, ...), by parent id: none may outlive the run
      for child in $(ps -o pid= --ppid "$postmaster" 2>/dev/null); do kill -KILL "$child" 2>/dev/null || true; done
    fi
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$perf_pid" ] && stop_pid "$perf_pid" INT
  [ -n "$sampler_pid" ] && stop_pid "$sampler_pid" INT
  [ -n "$wrk_pid" ] && stop_pid "$wrk_pid"
  [ -n "$haproxy_pid" ] && stop_pid "$haproxy_pid"
  local name
  for name in "${!node_pid[@]}"; do stop_pid "${node_pid[$name]}"; done
  stop_postgres
  if [ "$rc" -ne 0 ]; then
    for name in "${!node_out[@]}"; do
      echo "---- last lines of $name's output (${node_out[$name]}) ----" >&2
      tail -n 10 "${node_out[$name]}" >&2 || true
    done
    [ -n "$pg_dir" ] && [ -f "$pg_dir/postgres.log" ] && { echo "---- postgres.log ----" >&2; tail -n 10 "$pg_dir/postgres.log" >&2 || true; }
  fi
  keep_or_remove_scratch "$keep" "$scratch"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# The Python half: snapshots of /proc, the profile summary and the report (standard library).

cat >"$helper" <<'PYTHON'
import json, os, statistics, sys, time

def ticks_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    # comm, ppid, utime+stime, nice
    return comm, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[16])

def snapshot(out):
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                comm, ppid, ticks, nice = ticks_of(name)
                procs[name] = [comm, ppid, ticks, nice]
            except (OSError, ValueError, IndexError):
                pass
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    with open(out, "w") as f:
        json.dump({"time": time.time(), "cpu": cpu, "procs": procs}, f)

def cpu_split(before, after, groups):
    """groups: [(label, set of pids)]; a pid in no group counts as 'other processes'."""
    a, b = json.load(open(before)), json.load(open(after))
    hz = os.sysconf("SC_CLK_TCK")
    seconds = b["time"] - a["time"]
    total = sum(b["cpu"]) - sum(a["cpu"])
    idle = (b["cpu"][3] + b["cpu"][4]) - (a["cpu"][3] + a["cpu"][4])
    ncpu = os.cpu_count()
    used = {}
    claimed = 0
    for label, pids in groups:
        t = 0
        for pid in pids:
            pid = str(pid)
            if pid in b["procs"]:
                t += b["procs"][pid][2] - (a["procs"].get(pid, [0, 0, 0])[2])
        used[label] = t
        claimed += t
    mine = {str(p) for _, pids in groups for p in pids}
    others = sorted(((b["procs"][p][2] - a["procs"].get(p, [0, 0, 0])[2], p) for p in b["procs"]
                     if p not in mine), reverse=True)[:3]
    busy = total - idle
    rows = [(label, t) for label, t in used.items()]
    rows.append(("everything else on the machine", max(busy - claimed, 0)))
    rows.append(("idle (incl. iowait)", idle))
    lines = [f"CPU over {seconds:.1f} s on {ncpu} CPUs ({total} ticks of 1/{hz} s in all; "
             f"% of all CPU time, 100 % = {ncpu} cores busy):"]
    result = {}
    for label, t in rows:
        share = 100.0 * t / total if total else 0.0
        cores = t / hz / seconds if seconds else 0.0
        lines.append(f"  {label:<44} {share:5.1f} %   {cores:4.2f} cores")
        result[label] = {"share_pct": round(share, 1), "cores": round(cores, 2)}
    lines.append("  the busiest other processes: " + ", ".join(
        f"{b['procs'][p][0]} (pid {p}, nice {b['procs'][p][3]}) {t / hz / seconds:.2f} cores"
        for t, p in others if t > 0))
    result["busiest_other_processes"] = [
        {"comm": b["procs"][p][0], "pid": int(p), "nice": b["procs"][p][3],
         "cores": round(t / hz / seconds, 2)} for t, p in others if t > 0]
    return "\n".join(lines), result

def waits(path, db):
    """Summary of the psql \\watch samples: ts|backend_type|datname|state|type|event|count."""
    samples = set()
    client = {}
    other = {}
    for line in open(path, errors="replace"):
        parts = line.rstrip("\n").split("|")
        if len(parts) != 7:
            continue
        ts, btype, datname, state, wtype, wevent, count = parts
        samples.add(ts)
        key = (state or "-", wtype or "-", wevent or "-")
        if btype == "client backend" and datname == db:
            client[key] = client.get(key, 0) + int(count)
        else:
            k = (btype, wtype or "-", wevent or "-")
            other[k] = other.get(k, 0) + int(count)
    n = len(samples)
    total = sum(client.values())
    lines = [f"pg_stat_activity, {n} samples (every 100 ms): the client backends of database {db}",
             f"(postgres-1's pool, its LISTEN connection included), backends per sample by state "
             f"and wait event ('CPU' = active, no wait event):",
             f"  {'state':<22} {'wait_event_type/wait_event':<32} {'avg backends':>12} {'share':>7}"]
    hist = []
    for (state, wtype, wevent), c in sorted(client.items(), key=lambda kv: -kv[1]):
        label = "CPU (running)" if (wtype == "-" and state == "active") else f"{wtype}/{wevent}"
        avg = c / n if n else 0
        share = 100.0 * c / total if total else 0
        lines.append(f"  {state:<22} {label:<32} {avg:12.2f} {share:6.1f}%")
        hist.append({"state": state, "wait": label, "count": c, "avg_backends": round(avg, 2),
                     "share_pct": round(share, 1)})
    active = {k: v for k, v in client.items() if k[0] == "active"}
    active_total = sum(active.values())
    adv = sum(v for k, v in active.items() if k[1] == "Lock" and k[2] == "advisory")
    if n:
        lines.append(f"  active backends per sample: {active_total / n:.2f}; waiting on the "
                     f"advisory lock (Lock/advisory): {adv / n:.2f} per sample = "
                     f"{100.0 * adv / active_total if active_total else 0:.1f} % of active "
                     f"backend samples")
    # share of samples in which anybody waited on the advisory lock
    per_sample = {}
    for line in open(path, errors="replace"):
        parts = line.rstrip("\n").split("|")
        if len(parts) == 7 and parts[1] == "client backend" and parts[2] == db and \
                parts[3] == "active" and parts[4] == "Lock" and parts[5] == "advisory":
            per_sample[parts[0]] = int(parts[6])
    if n:
        lines.append(f"  samples with >= 1 backend on Lock/advisory: {len(per_sample)} of {n} "
                     f"({100.0 * len(per_sample) / n:.0f} %)")
    if other:
        lines.append("  other backends (background processes, other databases), avg per sample:")
        for (btype, wtype, wevent), c in sorted(other.items(), key=lambda kv: -kv[1])[:8]:
            lines.append(f"    {btype:<28} {wtype + '/' + wevent:<32} {c / n if n else 0:6.2f}")
    return "\n".join(lines), {"samples": n, "client_backends": hist,
                              "advisory_waiters_avg": round(adv / n, 2) if n else None,
                              "advisory_share_of_active_pct":
                                  round(100.0 * adv / active_total, 1) if active_total else None,
                              "samples_with_advisory_waiter_pct":
                                  round(100.0 * len(per_sample) / n, 1) if n else None}

def median_of(rounds):
    med = lambda get: statistics.median(get(r) for r in rounds)
    return {"rps": round(med(lambda r: r["rps"]), 1),
            "rounds_rps": [round(r["rps"], 1) for r in rounds],
            "p50_ms": round(med(lambda r: r["latency_ms"]["p50"]), 3),
            "p99_ms": round(med(lambda r: r["latency_ms"]["p99"]), 3),
            "rounds_p50_ms": [r["latency_ms"]["p50"] for r in rounds],
            "rounds_p99_ms": [r["latency_ms"]["p99"] for r in rounds],
            "requests": sum(r["requests"] for r in rounds),
            "non2xx": sum(r["errors"]["non2xx"] for r in rounds),
            "socket_errors": sum(r["errors"]["connect"] + r["errors"]["read"] +
                                 r["errors"]["write"] + r["errors"]["timeout"] for r in rounds),
            "loadavg_1m_after_rounds": [r.get("loadavg_1m") for r in rounds]}

# perf script samples (comm tid, then one "ip sym (dso)" line per frame), sorted into what the
# process was doing: the first rule whose symbols (or shared objects) appear in the stack wins.
PERF_RULES = {
    "postgres": [
        ("WAL flush at commit (XLogFlush, fdatasync)",
         {"XLogFlush", "XLogWrite", "issue_xlog_fsync", "fdatasync", "pg_fdatasync"}, set()),
        ("commit, other work (CommitTransactionCommand)",
         {"CommitTransactionCommand", "CommitTransaction"}, set()),
        ("reading/awaiting the client's next message (recv, epoll)",
         {"secure_read", "pq_getbyte", "pq_getmessage", "WaitEventSetWait", "epoll_wait",
          "__libc_recv", "recv", "pq_recvbuf"}, set()),
        ("sending results to Portico (send on loopback TCP)",
         {"secure_write", "pq_flush", "internal_flush", "__send", "send", "socket_putmessage",
          "tcp_sendmsg"}, set()),
        ("lock manager (the advisory lock: grant, sleep, release)",
         {"LockAcquireExtended", "LockAcquire", "ProcSleep", "LockReleaseAll", "LockRelease",
          "pg_advisory_xact_lock_int8"}, set()),
        ("parse, bind, plan", {"pg_parse_query", "raw_parser", "base_yyparse", "pg_plan_queries",
                               "exec_parse_message", "exec_bind_message", "GetCachedPlan",
                               "BuildCachedPlan", "pg_analyze_and_rewrite_fixedparams",
                               "pg_analyze_and_rewrite_varparams"}, set()),
        ("executing statements (executor, indexes, heap)",
         {"standard_ExecutorRun", "ExecutorRun", "PortalRun", "standard_ExecutorStart",
          "standard_ExecutorFinish", "standard_ExecutorEnd"}, set()),
    ],
    "portico": [
        # Portico's stacks end in libc (no frame pointers there): libpq uses send/recv/poll, the
        # HTTP server (asio) sendmsg/recvmsg/epoll, so the libc call tells them apart.
        ("libpq: sending statements (send)", {"__send", "pqSendSome", "pqsecure_raw_write"},
         set()),
        ("libpq: awaiting/reading results (poll, recv)",
         {"__poll", "__libc_recv", "pqWait", "pqReadData", "pqsecure_raw_read"}, set()),
        ("HTTP server: client sockets and epoll (asio sendmsg/recvmsg/epoll)",
         {"__libc_sendmsg", "__libc_recvmsg", "epoll_wait", "epoll_ctl", "__writev", "__readv"},
         set()),
        ("threads handing work over (futex: worker pool, DB connection pool)",
         {"__futex_abstimed_wait_common", "pthread_cond_signal@@GLIBC_2.3.2",
          "pthread_cond_broadcast@@GLIBC_2.3.2", "futex_wait", "futex_wake",
          "__lll_lock_wait", "__lll_lock_wake", "__GI___lll_lock_wait", "__GI___lll_lock_wake"},
         set()),
        ("libpq and store_postgres: other (results, pipeline, pool)", set(),
         {"libpq.so.5", "store_postgres.so"}),
        ("routes_orders (order logic)", set(), {"routes_orders.so"}),
        ("memory allocation (malloc, free)",
         {"malloc", "_int_malloc", "_int_free", "cfree@GLIBC_2.2.5", "malloc_consolidate",
          "free", "operator new(unsigned long)", "operator delete(void*, unsigned long)"}, set()),
        ("other plugins (auth, rate limit, ...)", set(),
         {"auth_api_key.so", "ratelimit_sliding_window.so", "routes_products.so",
          "webhook_delivery.so", "routes_webhooks.so"}),
    ],
}
CROSS = [("in the scheduler: context switches and wake-ups (__schedule, try_to_wake_up)",
          {"__schedule", "try_to_wake_up", "schedule", "finish_task_switch.isra.0"}),
         ("in the loopback TCP stack (tcp_sendmsg, tcp_v4_rcv, ...)",
          {"tcp_sendmsg", "tcp_sendmsg_locked", "tcp_v4_rcv", "tcp_recvmsg"})]

def perf_categories(path):
    samples = []  # (comm, set of syms, set of dsos)
    comm, syms, dsos = None, set(), set()
    for line in open(path, errors="replace"):
        if not line.strip():
            if comm is not None:
                samples.append((comm, syms, dsos))
            comm, syms, dsos = None, set(), set()
            continue
        if not line[0].isspace():
            comm = line.split()[0]
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            continue
        rest = parts[1].rstrip()
        dso = ""
        if rest.endswith(")") and " (" in rest:
            rest, dso = rest.rsplit(" (", 1)
            dso = os.path.basename(dso[:-1])
            if ".so." in dso:
                dso = dso[:dso.index(".so.") + 5]
        syms.add(rest.split("+")[0].strip())
        dsos.add(dso)
    if comm is not None:
        samples.append((comm, syms, dsos))
    total = len(samples)
    lines, result = [], {}
    for comm in ("postgres", "portico"):
        mine = [s for s in samples if s[0] == comm]
        if not mine:
            continue
        counts = {}
        for _, syms, dsos in mine:
            label = "other"
            for name, want_syms, want_dsos in PERF_RULES[comm]:
                if syms & want_syms or any(d in dsos for d in want_dsos):
                    label = name
                    break
            counts[label] = counts.get(label, 0) + 1
        lines.append(f"{comm}: {len(mine)} samples = {100.0 * len(mine) / total:.1f} % of all; "
                     f"what the stack was doing (% of {comm}'s samples, first matching rule):")
        result[comm] = {"samples": len(mine), "categories": {}}
        for label, c in sorted(counts.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {100.0 * c / len(mine):5.1f} %  {label}")
            result[comm]["categories"][label] = round(100.0 * c / len(mine), 1)
        for label, want in CROSS:
            c = sum(1 for _, syms, _ in mine if syms & want)
            lines.append(f"  (across those: {100.0 * c / len(mine):5.1f} % {label})")
            result[comm][label] = round(100.0 * c / len(mine), 1)
    return "\n".join(lines), result

SCENARIOS = {"product_detail": "(a) GET /v1/products/{id}, 1,000 products",
             "orders": "(d) POST /v1/orders, unique Idempotency-Key"}
SETUPS = ["sqlite-1", "postgres-1", "postgres-3"]

def fmt_rps(v):
    return f"{v:,.0f}"

def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] +
                     [line(r) for r in rows])

def report(measurements, out_json, meta_json, profile_json):
    meta = json.load(open(meta_json))
    items = [json.loads(l) for l in open(measurements) if l.strip()]
    results = {}
    for s in SCENARIOS:
        results[s] = {}
        for setup in SETUPS:
            rounds = [dict(i["wrk"], loadavg_1m=i["loadavg"], round=i["round"]) for i in items
                      if i["scenario"] == s and i["setup"] == setup]
            if rounds:
                results[s][setup] = dict(median_of(rounds), rounds=rounds)
    def ratio(s, a, b):
        x, y = results[s].get(a), results[s].get(b)
        return round(x["rps"] / y["rps"], 3) if x and y and y["rps"] else None
    ratios = {}
    for s in SCENARIOS:
        ratios[s] = {"postgres-1/sqlite-1": ratio(s, "postgres-1", "sqlite-1"),
                     "postgres-3/postgres-1": ratio(s, "postgres-3", "postgres-1"),
                     "postgres-3/sqlite-1": ratio(s, "postgres-3", "sqlite-1")}
    with open("/proc/loadavg") as f:
        meta["loadavg_end"] = " ".join(f.read().split()[:3])
    doc = dict(meta)
    doc["scenarios"] = {s: {"description": SCENARIOS[s], "setups": results[s],
                            "rps_ratios": ratios[s]} for s in SCENARIOS}
    if profile_json and os.path.exists(profile_json):
        doc["profile"] = json.load(open(profile_json))
    with open(out_json, "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    c = meta["client"]
    print(f"\nPortico cluster benchmark ({meta['mode']}), {meta['date']}, rev {meta['git_revision']}"
          f"{' (dirty)' if meta['git_dirty'] else ''}, {meta['machine']['nproc']} x "
          f"{meta['machine']['model_name']}")
    print(f"wrk -t2 -c{c['connections']} -d{c['duration_s']}s, {c['rounds']} round(s) per set-up, "
          f"alternating (sqlite-1, postgres-1, postgres-3, ...), median of the rounds; "
          f"catalog {meta['catalog']:,} products")
    print(f"PostgreSQL {meta['postgres']['version']}: " +
          ", ".join(f"{k}={v}" for k, v in meta["postgres"]["settings"].items()))
    print(f"load average (1/5/15 min): start {meta['loadavg_start']}, end {meta['loadavg_end']}\n")
    rows = []
    for s, label in SCENARIOS.items():
        for setup in SETUPS:
            r = results[s].get(setup)
            if not r:
                continue
            rows.append([label if setup == SETUPS[0] else "", setup, fmt_rps(r["rps"]),
                         " / ".join(fmt_rps(x) for x in r["rounds_rps"]),
                         f"{r['p50_ms']:.2f} ms", f"{r['p99_ms']:.2f} ms",
                         r["non2xx"] + r["socket_errors"]])
    print(table(["scenario", "set-up", "req/s (median)", "req/s per round", "p50", "p99",
                 "errors"], rows))
    print()
    rows = []
    for key in ["postgres-1/sqlite-1", "postgres-3/postgres-1", "postgres-3/sqlite-1"]:
        rows.append([key.replace("/", " ÷ "),
                     *(f"{ratios[s][key]:.2f}x" if ratios[s][key] is not None else "—"
                       for s in SCENARIOS)])
    print(table(["req/s ratio", "(a) product detail", "(d) orders"], rows))
    print()

def main():
    cmd = sys.argv[1]
    if cmd == "snapshot":
        snapshot(sys.argv[2])
    elif cmd == "profile":
        # profile BEFORE AFTER WAITS DB OUT_JSON label=pid,pid ...
        before, after, waits_file, db, out = sys.argv[2:7]
        groups = []
        for spec in sys.argv[7:]:
            label, pids = spec.split("=", 1)
            groups.append((label, {p for p in pids.split(",") if p}))
        text1, split = cpu_split(before, after, groups)
        text2, hist = waits(waits_file, db)
        json.dump({"cpu_split": split, "wait_events": hist}, open(out, "w"))
        print(text1)
        print()
        print(text2)
    elif cmd == "perfcat":
        text, result = perf_categories(sys.argv[2])
        print(text)
        if len(sys.argv) > 3:
            doc = json.load(open(sys.argv[3]))
            doc["perf"] = result
            json.dump(doc, open(sys.argv[3], "w"))
    elif cmd == "report":
        report(*sys.argv[2:6])

main()
PYTHON

# ---------------------------------------------------------------------------------------------
# PostgreSQL

pg_settings=(-c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on
  -c full_page_writes=on -c shared_buffers=256MB -c max_connections=200
  -c shared_preload_libraries=pg_stat_statements -c track_wal_io_timing=on
  -c logging_collector=off -c log_destination=stderr)

start_postgres() {
  pg_dir="$scratch/pg"
  pg_data="$pg_dir/data"
  mkdir -p "$pg_dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$pg_dir"
  say "PostgreSQL: initdb ($pg_bin)"
  as_pg "$pg_bin/initdb" -D "$pg_data" --auth=trust --username=postgres --encoding=UTF8 \
    --locale=C -N >"$scratch/initdb.log" 2>&1 || fail "initdb: $(tail -n 5 "$scratch/initdb.log")"
  for _ in 1 2 3 4 5; do
    pg_port=$(free_port)
    if as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_dir/postgres.log" -w -t 30 \
      -o "-p $pg_port -c unix_socket_directories=$pg_dir ${pg_settings[*]}" start \
      >>"$scratch/pg_ctl.log" 2>&1; then
      pg_started=1
      break
    fi
    grep -q "could not bind\|could not create any TCP/IP" "$pg_dir/postgres.log" 2>/dev/null ||
      fail "PostgreSQL did not start: $(tail -n 5 "$pg_dir/postgres.log" 2>/dev/null)"
  done
  [ "$pg_started" = 1 ] || fail "PostgreSQL found no free port in 5 attempts"
  note "PostgreSQL on 127.0.0.1:$pg_port, data in $pg_data"
}

psql_db() {  # DB SQL: one statement, unaligned, tuples only
  "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U postgres -d "$1" -c "$2"
}

pg_url() { echo "postgresql://postgres@127.0.0.1:$pg_port/$1"; }

# ---------------------------------------------------------------------------------------------
# Portico nodes and haproxy

# start_node NAME SETTINGS...: a node on configs/bench.toml; sets node_pid[NAME], node_port[NAME],
# node_admin[NAME].
declare -A node_port=() node_admin=()
start_node() {
  local name=$1
  shift
  local dir="$scratch/$name"
  mkdir -p "$dir"
  node_out[$name]="$dir/portico.out"
  "$portico" serve -c "$config" \
    --set server.listen=127.0.0.1:0 --set admin.listen=127.0.0.1:0 \
    --set "logging.dir=\"$dir/log\"" --set "plugins.dir=\"$build/plugins\"" \
    --set "storage.path=\"$dir/portico.db\"" "$@" >"${node_out[$name]}" 2>&1 &
  node_pid[$name]=$!
  local line=""
  for _ in $(seq 300); do
    line=$(grep -m1 'portico listening on public' "${node_out[$name]}" || true)
    [ -n "$line" ] && break
    kill -0 "${node_pid[$name]}" 2>/dev/null || fail "$name exited during start-up: $(tail -n 5 "${node_out[$name]}")"
    sleep 0.1
  done
  [ -n "$line" ] || fail "$name did not report its listeners within 30 s"
  node_port[$name]=$(sed -n 's/.*public 127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$line")
  node_admin[$name]=$(sed -n 's/.*admin 127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$line")
  [ -n "${node_port[$name]}" ] && [ -n "${node_admin[$name]}" ] || fail "cannot read $name's ports from: $line"
  [ "$(http_status "http://127.0.0.1:${node_port[$name]}/healthz")" = 200 ] || fail "$name's /healthz does not answer 200"
  note "$name: pid ${node_pid[$name]}, public :${node_port[$name]}, admin :${node_admin[$name]}"
}

start_haproxy() {
  local dir="$scratch/haproxy" i
  mkdir -p "$dir"
  haproxy_port=$(free_port)
  haproxy_stats=$(free_port)
  {
    printf 'global\n  maxconn 4096\n'
    printf 'defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n'
    printf '  timeout check 2s\n  retries 3\n  option redispatch\n'
    printf 'frontend partners\n  bind 127.0.0.1:%s\n  default_backend nodes\n' "$haproxy_port"
    printf 'backend nodes\n  balance roundrobin\n  http-reuse always\n  option forwardfor\n'
    printf '  option httpchk\n'
    printf '  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost\n'
    printf '  http-check expect status 200\n'
    printf '  default-server inter 1s fall 3 rise 2\n'
    for i in 1 2 3; do
      printf '  server node%d 127.0.0.1:%s check port %s\n' "$i" "${node_port[pg3-node$i]}" "${node_admin[pg3-node$i]}"
    done
    printf 'listen stats\n  bind 127.0.0.1:%s\n  stats enable\n  stats uri /stats\n' "$haproxy_stats"
  } >"$dir/haproxy.cfg"
  haproxy -c -f "$dir/haproxy.cfg" >"$dir/check.log" 2>&1 || fail "haproxy -c: $(cat "$dir/check.log")"
  haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
  haproxy_pid=$!
  # Up when all three servers pass their /readyz check.
  local up=0
  for _ in $(seq 100); do
    kill -0 "$haproxy_pid" 2>/dev/null || fail "haproxy exited: $(tail -n 5 "$dir/haproxy.log")"
    up=$(curl -s --max-time 2 "http://127.0.0.1:$haproxy_stats/stats;csv" 2>/dev/null |
      awk -F, '$1 == "nodes" && $2 ~ /^node/ && $18 == "UP"' | wc -l || true)
    [ "$up" = 3 ] && break
    sleep 0.1
  done
  [ "$up" = 3 ] || fail "haproxy: only $up of 3 nodes passed the /readyz check"
  note "haproxy: pid $haproxy_pid, 127.0.0.1:$haproxy_port -> 3 nodes (all UP), stats :$haproxy_stats"
}

haproxy_counts() {  # "node1=N node2=N node3=N": 2xx answers of each server
  curl -s --max-time 2 "http://127.0.0.1:$haproxy_stats/stats;csv" |
    awk -F, 'NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
             $1 == "nodes" && $2 ~ /^node/ { printf "%s%s=%s", sep, $2, $col["hrsp_2xx"]; sep=" " }'
}

setup_pids() {  # SETUP: the Portico pids of a set-up
  case "$1" in
    sqlite-1) echo "${node_pid[sqlite-1]}" ;;
    postgres-1) echo "${node_pid[postgres-1]}" ;;
    postgres-3) echo "${node_pid[pg3-node1]} ${node_pid[pg3-node2]} ${node_pid[pg3-node3]}" ;;
  esac
}

alive() {  # SETUP: fails unless every process of it runs
  local pid
  for pid in $(setup_pids "$1"); do kill -0 "$pid" 2>/dev/null || fail "a Portico node of $1 died (pid $pid)"; done
  if [ "$1" = postgres-3 ]; then kill -0 "$haproxy_pid" 2>/dev/null || fail "haproxy died"; fi
}

postgres_pids() {  # the postmaster and its children
  local pm
  pm=$(head -n 1 "$pg_data/postmaster.pid")
  # shellcheck disable=SC2046
  echo "$pm" $(ps -o pid= --ppid "$pm")
}

busy_ticks() {  # CPU ticks of every Portico node, haproxy and PostgreSQL
  local pid sum=0 t
  for pid in "${node_pid[@]}" $haproxy_pid $(postgres_pids); do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

# Waits until the servers have been (nearly) idle for half a second: the webhook fan-out of the
# orders just placed, batched flushes and autovacuum must not leak into the next measurement.
wait_quiet() {
  local limit=${1:-20} before after
  for _ in $(seq $((limit * 2))); do
    before=$(busy_ticks)
    sleep 0.5
    after=$(busy_ticks)
    [ $((after - before)) -le 5 ] && return 0
  done
  note "the servers are still busy after ${limit} s; measuring anyway"
}

# ---------------------------------------------------------------------------------------------
# Measurement

declare -A setup_url=()

# round SCENARIO SETUP N EXPECT(2xx|warmup) SECONDS -- LUA ARGS
round() {
  local scenario=$1 setup=$2 n=$3 expect=$4 seconds=$5
  shift 5
  local raw="$scratch/wrk-$scenario-$setup-$n.txt" json
  wrk -t2 -c"$connections" -d"${seconds}s" --timeout 5s --latency -s "$here/bench.lua" \
    "${setup_url[$setup]}" -- "$@" >"$raw" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || { wrk_pid=""; fail "wrk failed ($scenario, $setup): $(tail -n 5 "$raw")"; }
  wrk_pid=""
  alive "$setup"
  [ "$expect" = warmup ] && return 0
  json=$("$python" "$here/bench.py" check 2xx "$scenario $setup round $n" <"$raw") ||
    fail "$scenario against $setup: see above (raw output: $raw)"
  printf '{"scenario":"%s","setup":"%s","round":%s,"loadavg":%s,"wrk":%s}\n' \
    "$scenario" "$setup" "$n" "$(cut -d' ' -f1 /proc/loadavg)" "$json" >>"$measurements"
}

lua_args() {  # SCENARIO SETUP TAG: bench.lua's arguments
  case "$1" in
    product_detail) echo "get ${setup_key[$2]} /v1/products/prod_%06d $catalog" ;;
    orders) echo "orders ${setup_key[$2]} prod_%06d $catalog $1-$2-$3-$$" ;;
  esac
}

# Alternating rounds of one scenario: sqlite-1, postgres-1, postgres-3, sqlite-1, ...
alternate() {
  local scenario=$1 setup r
  if [ "$warmup" -gt 0 ]; then
    for setup in "${setups[@]}"; do
      # shellcheck disable=SC2046
      round "$scenario" "$setup" 0 warmup "$warmup" $(lua_args "$scenario" "$setup" warm)
    done
  fi
  for r in $(seq "$rounds"); do
    for setup in "${setups[@]}"; do
      # shellcheck disable=SC2046
      round "$scenario" "$setup" "$r" 2xx "$duration" $(lua_args "$scenario" "$setup" "r$r")
    done
  done
}

# ---------------------------------------------------------------------------------------------

loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "cluster benchmark ($mode): ${duration}s rounds, $rounds per set-up, wrk -t2 -c$connections, build $build; load average $loadavg_start"
export PORTICO_ADMIN_TOKEN
PORTICO_ADMIN_TOKEN=$("$python" -c 'import secrets; print(secrets.token_hex(24))')

start_postgres
for db in portico_p1 portico_p3; do
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres -w "$db" || fail "createdb $db"
done
psql_db portico_p1 "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null ||
  fail "CREATE EXTENSION pg_stat_statements"
pg_version=$(psql_db postgres "SHOW server_version")
pg_settings_json=$(psql_db postgres "SELECT json_object_agg(name, setting || coalesce(unit, '')) FROM (SELECT name, setting, CASE WHEN unit = '8kB' THEN NULL ELSE unit END AS unit FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'max_connections', 'wal_level', 'commit_delay') ORDER BY name) s")
pg_shared_buffers=$(psql_db postgres "SHOW shared_buffers")
note "PostgreSQL $pg_version: $pg_settings_json, shared_buffers=$pg_shared_buffers"

say "starting the nodes"
start_node sqlite-1
pg_common=(--set 'storage.backend="postgres"')
start_node postgres-1 "${pg_common[@]}" --set "storage.url=\"$(pg_url portico_p1)\"" \
  --set plugins.store_postgres.pool_size=16
# The first node of the three migrates the database and makes the data key; the others find both.
for i in 1 2 3; do
  start_node "pg3-node$i" "${pg_common[@]}" --set "storage.url=\"$(pg_url portico_p3)\"" \
    --set plugins.store_postgres.pool_size=8 --set server.threads=1 \
    --set 'server.trusted_proxies=["127.0.0.1/32"]' \
    --set "security.data_key_file=\"$scratch/pg3-data.key\""
done
[ "$(grep -c 'store_postgres' "${node_out[postgres-1]}" || true)" -gt 0 ] || note "(postgres-1's output does not name store_postgres)"

say "partners, keys and $catalog products (portico CLI against each set-up's admin API)"
"$python" "$here/bench.py" catalog "$catalog" "$scratch/catalog.json"
declare -A setup_key=() setup_admin=()
setup_admin[sqlite-1]="http://127.0.0.1:${node_admin[sqlite-1]}"
setup_admin[postgres-1]="http://127.0.0.1:${node_admin[postgres-1]}"
setup_admin[postgres-3]="http://127.0.0.1:${node_admin[pg3-node1]}"
setup_url[sqlite-1]="http://127.0.0.1:${node_port[sqlite-1]}"
setup_url[postgres-1]="http://127.0.0.1:${node_port[postgres-1]}"
for setup in "${setups[@]}"; do
  admin=${setup_admin[$setup]}
  partner=$("$portico" partner add --name "Bench Partner" --tier bench --json --admin "$admin" -c "$config" | json_field id) ||
    fail "portico partner add ($setup) failed"
  setup_key[$setup]=$("$portico" key issue "$partner" --env test --json --admin "$admin" -c "$config" | json_field key) ||
    fail "portico key issue ($setup) failed"
  t0=$(date +%s.%N)
  "$portico" catalog import "$scratch/catalog.json" --admin "$admin" -c "$config" >"$scratch/import-$setup.log" ||
    fail "catalog import ($setup): $(tail -n 3 "$scratch/import-$setup.log")"
  note "$setup: partner $partner, $catalog products imported in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
done
# Every node of the three knows the key and the products (each follows the database within ~1 s).
for i in 1 2 3; do
  ok=0
  for _ in $(seq 100); do
    [ "$(http_status -H "X-API-Key: ${setup_key[postgres-3]}" "http://127.0.0.1:${node_port[pg3-node$i]}/v1/products/prod_000001")" = 200 ] && { ok=1; break; }
    sleep 0.1
  done
  [ "$ok" = 1 ] || fail "pg3-node$i does not answer 200 to GET /v1/products/prod_000001 with the key within 10 s"
done
start_haproxy
setup_url[postgres-3]="http://127.0.0.1:$haproxy_port"
for setup in "${setups[@]}"; do
  [ "$(http_status -H "X-API-Key: ${setup_key[$setup]}" "${setup_url[$setup]}/v1/products/prod_000001")" = 200 ] ||
    fail "$setup: GET /v1/products/prod_000001 does not answer 200"
done

say "(a) GET /v1/products/{id}, $catalog products, $connections connections"
wait_quiet 20
alternate product_detail
say "(d) POST /v1/orders, $connections connections"
wait_quiet 20
alternate orders
haproxy_spread=$(haproxy_counts)
note "haproxy spread over the three nodes (requests per server, whole run): $haproxy_spread"

# ---------------------------------------------------------------------------------------------
# The profile: one more (d) round against postgres-1.

profile_file="$out/$results_name-profile.txt"  # cluster-profile.txt, cluster-quick-profile.txt with --quick
profile_json="$scratch/profile.json"
if [ "$profile" = 1 ]; then
  say "profile: (d) against postgres-1 for ${profile_round} s (not counted in the medians)"
  wait_quiet 20
  p1_pid=${node_pid[postgres-1]}
  pg_all=$(postgres_pids | tr ' ' '\n' | grep -v '^$' | paste -sd,)
  p3_pids="${node_pid[pg3-node1]},${node_pid[pg3-node2]},${node_pid[pg3-node3]}"
  psql_db portico_p1 "SELECT pg_stat_statements_reset()" >/dev/null
  psql_db postgres "SELECT pg_stat_reset_shared('wal')" >/dev/null
  xact0=$(psql_db postgres "SELECT xact_commit FROM pg_stat_database WHERE datname = 'portico_p1'")
  printf '%s\n' \
    "SELECT statement_timestamp()::text, coalesce(backend_type, ''), coalesce(datname, ''), coalesce(state, ''), coalesce(wait_event_type, ''), coalesce(wait_event, ''), count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() GROUP BY 1, 2, 3, 4, 5, 6" \
    '\watch 0.1' >"$scratch/waits.sql"

  # shellcheck disable=SC2046
  wrk -t2 -c"$connections" -d"${profile_round}s" --timeout 5s --latency -s "$here/bench.lua" \
    "${setup_url[postgres-1]}" -- $(lua_args orders postgres-1 profile) >"$scratch/wrk-profile.txt" 2>&1 &
  wrk_pid=$!
  profile_wrk_pid=$wrk_pid
  sleep 0.5
  PGAPPNAME=cluster-bench-sampler "$pg_bin/psql" -X -q -At -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -f "$scratch/waits.sql" \
    >"$scratch/waits.txt" 2>"$scratch/waits.err" &
  sampler_pid=$!
  sleep 0.5
  sampler_backend=$(psql_db postgres "SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity WHERE application_name = 'cluster-bench-sampler'")
  "$python" "$helper" snapshot "$scratch/cpu-before.json"
  perf_status="not run"
  if command -v perf >/dev/null; then
    perf record -g -e cpu-clock -o "$scratch/perf.data" -p "$p1_pid,$pg_all" -- sleep "$profile_seconds" \
      >"$scratch/perf-record.log" 2>&1 &
    perf_pid=$!
    profiler_pids="$perf_pid,$sampler_pid,$sampler_backend"
    wait "$perf_pid" && perf_status=ok || perf_status="perf record failed: $(tail -n 2 "$scratch/perf-record.log" | tr '\n' ' ')"
    perf_pid=""
  else
    perf_status="perf not installed (apt-get install -y linux-perf)"
    profiler_pids="$sampler_pid,$sampler_backend"
    sleep "$profile_seconds"
  fi
  "$python" "$helper" snapshot "$scratch/cpu-after.json"
  wait "$wrk_pid" || { wrk_pid=""; fail "wrk failed (profile round): $(tail -n 5 "$scratch/wrk-profile.txt")"; }
  wrk_pid=""
  stop_pid "$sampler_pid" INT
  sampler_pid=""
  alive postgres-1
  profile_wrk=$("$python" "$here/bench.py" check 2xx "orders postgres-1 profiled" <"$scratch/wrk-profile.txt") ||
    fail "the profiled round: see above"
  # postgres-1's connections (its pool and its LISTEN connection), and the rest of PostgreSQL
  backends=$(psql_db portico_p1 "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE datname = 'portico_p1' AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
  pg_other=$(comm -23 <(tr ',' '\n' <<<"$pg_all" | sort) <(tr ',' '\n' <<<"$backends,$sampler_backend" | sort) | paste -sd,)
  xact1=$(psql_db postgres "SELECT xact_commit FROM pg_stat_database WHERE datname = 'portico_p1'")
  wal=$(psql_db postgres "SELECT wal_records || ' records, ' || wal_bytes || ' bytes, ' || wal_write || ' writes, ' || wal_sync || ' syncs (fsync/fdatasync), ' || round(wal_sync_time::numeric) || ' ms in syncs, ' || round(wal_write_time::numeric) || ' ms in writes' FROM pg_stat_wal")
  wal_syncs=$(psql_db postgres "SELECT wal_sync FROM pg_stat_wal")
  wal_sync_ms=$(psql_db postgres "SELECT round(wal_sync_time::numeric, 1) FROM pg_stat_wal")
  orders_done=$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["requests"])' "$profile_wrk")
  profile_rps=$("$python" -c 'import json, sys; print(round(json.loads(sys.argv[1])["rps"]))' "$profile_wrk")
  statements=$(psql_db portico_p1 "SELECT rpad(to_char(calls::numeric / $orders_done, 'FM990.00'), 7) || ' ' || lpad(to_char(total_exec_time, 'FM999990'), 7) || ' ms  ' || lpad(to_char(total_exec_time / greatest(calls, 1), 'FM99990.000'), 9) || ' ms  ' || left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'portico_p1') ORDER BY total_exec_time DESC LIMIT 18")
  statement_calls=$(psql_db portico_p1 "SELECT sum(calls) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'portico_p1')")
  # Writes are serialized by the advisory lock, so the wall time per order is one order's turn on
  # the lock: its statements, its COMMIT (with the WAL fdatasync) and the client round trips.
  breakdown=$(psql_db portico_p1 "WITH s AS (SELECT query, calls, total_exec_time AS ms FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'portico_p1') AND query NOT ILIKE '%pg_stat%' AND query NOT ILIKE '%pg_backend_pid%'), c AS (SELECT *, query ILIKE '%pg_advisory_xact_lock%' AS lock, query ~* '^\s*(COMMIT|END)' AS commit, query ~* '^\s*(BEGIN|START|SAVEPOINT|RELEASE)' AS control, query ILIKE '%pg_notify%' AS notify FROM s) SELECT round(coalesce(sum(ms) FILTER (WHERE lock), 0)::numeric, 1) || '|' || round(coalesce(sum(ms) FILTER (WHERE commit), 0)::numeric, 1) || '|' || round(coalesce(sum(ms) FILTER (WHERE NOT lock AND NOT commit), 0)::numeric, 1) || '|' || coalesce(sum(calls) FILTER (WHERE NOT lock AND NOT commit AND NOT control AND NOT notify), 0) || '|' || coalesce(sum(calls) FILTER (WHERE lock), 0) FROM c")
  profile_seconds_wrk=$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["duration_s"])' "$profile_wrk")
  turn=$("$python" - "$breakdown" "$orders_done" "$profile_seconds_wrk" "$wal_sync_ms" "$wal_syncs" <<'PYTHON'
import sys
lock_ms, commit_ms, exec_ms, stmts, locks = (float(x) for x in sys.argv[1].split("|"))
orders, seconds, sync_ms, syncs = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
wall = seconds * 1000 / orders
per = lambda x: x / orders
# Round trips: each statement of a body (its savepoint pipelined with it: one), and per write
# transaction BEGIN + lock and notify + COMMIT; when the store batches several bodies into one
# transaction (group commit), one RELEASE + SAVEPOINT between bodies instead.
batches = max(min(locks, orders), 1)
trips = stmts / orders + (2 * batches + (orders - batches if batches < orders else 0)) / orders
print(f"Write transactions (advisory lock turns): {locks:.0f} for {orders} orders = "
      f"{orders / max(locks, 1):.1f} orders per transaction")
# COMMIT's flush happens after the statement hook has timed it: the WAL sync comes from pg_stat_wal.
sync = sync_ms / orders
rest = wall - per(exec_ms) - sync
rows = [("statements executing in PostgreSQL (pg_stat_statements; lock wait excluded)",
         per(exec_ms)),
        (f"WAL fdatasync at COMMIT (pg_stat_wal: {syncs / orders:.2f} syncs/order x "
         f"{sync_ms / max(syncs, 1):.2f} ms)", sync),
        (f"the rest (wall - the two above): ~{trips:.1f} client round trips/order (libpq <-> backend on loopback TCP, the "
         f"wake-ups on both sides, Portico's work between statements; ~{1000 * rest / trips:.0f} us "
         f"each)", rest)]
print(f"One order's share of the serialized write path (wall time / orders = {wall:.2f} ms; "
      f"the write transactions of a node run one at a time):")
for label, ms in rows:
    print(f"  {ms:6.2f} ms  {100 * ms / wall:4.0f} %  {label}")
print(f"  (waiting for the lock: {lock_ms / 1000:.1f} s summed over the backends = "
      f"{lock_ms / orders:.1f} ms per order)")
PYTHON
)

  {
    echo "Profile of the PostgreSQL order path: (d) POST /v1/orders against postgres-1"
    echo "(one Portico node, bench.toml + store_postgres pool_size=16), wrk -t2 -c$connections for ${profile_round} s;"
    echo "perf and the CPU split cover ${profile_seconds} s in the middle of the round, wait events the whole round."
    echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ), load average before/after: $loadavg_start / $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "PostgreSQL $pg_version: $pg_settings_json, shared_buffers=$pg_shared_buffers"
    echo
    echo "Throughput in the profiled round: $profile_rps orders/s ($orders_done orders; perf, psql sampling and"
    echo "pg_stat_statements add their own load, so this round is not in the medians)."
    echo
    "$python" "$helper" profile "$scratch/cpu-before.json" "$scratch/cpu-after.json" "$scratch/waits.txt" \
      portico_p1 "$profile_json" \
      "portico postgres-1 (pid $p1_pid)=$p1_pid" \
      "postgres client backends of postgres-1=$backends" \
      "postgres other processes (walwriter, ...)=$pg_other" \
      "wrk=$profile_wrk_pid" \
      "idle set-ups (sqlite-1, postgres-3, haproxy)=${node_pid[sqlite-1]},$p3_pids,$haproxy_pid" \
      "profilers (perf, psql sampler + its backend)=$profiler_pids"
    echo
    echo "PostgreSQL during the round: $((xact1 - xact0)) commits in database portico_p1 ($(awk -v a=$((xact1 - xact0)) -v b="$orders_done" 'BEGIN { printf "%.2f", a / b }') per order);"
    echo "WAL: $wal"
    echo "  = $(awk -v a="$wal_syncs" -v b="$orders_done" 'BEGIN { printf "%.2f", a / b }') WAL syncs per order, $(awk -v a="$wal_sync_ms" -v b="$wal_syncs" 'BEGIN { printf "%.2f", b ? a / b : 0 }') ms per sync"
    echo "  (time in WAL syncs: $(awk -v a="$wal_sync_ms" -v s="$profile_round" 'BEGIN { printf "%.0f", a / (s * 10) }') % of the round's wall time)"
    echo
    echo "$turn"
    echo
    echo "pg_stat_statements ($statement_calls statements = $(awk -v a="$statement_calls" -v b="$orders_done" 'BEGIN { printf "%.1f", a / b }') per order), top by total time:"
    echo "  calls/order  total     per call  statement"
    sed 's/^/  /' <<<"$statements"
    echo
    if [ "$perf_status" = ok ]; then
      echo "perf record -g -e cpu-clock -p <portico postgres-1, all PostgreSQL processes> -- sleep $profile_seconds"
      echo
      echo "-- samples by process (comm) --"
      perf report -i "$scratch/perf.data" --stdio --no-children --sort comm -g none --percent-limit 1 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 15
      echo
      echo "-- by process and shared object --"
      perf report -i "$scratch/perf.data" --stdio --no-children --sort comm,dso -g none --percent-limit 1 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 20
      echo
      echo "-- top symbols (self time) --"
      perf report -i "$scratch/perf.data" --stdio --no-children --sort comm,sym -g none --percent-limit 0.7 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -n 40
      echo
      echo "-- by activity: every sample's call stack sorted by what it was doing --"
      echo "   (PostgreSQL's binary is stripped: its static functions are not named, the exported ones are)"
      perf script -i "$scratch/perf.data" -F comm,tid,ip,sym,dso >"$scratch/perf-script.txt" 2>/dev/null || true
      "$python" "$helper" perfcat "$scratch/perf-script.txt" "$profile_json"
    else
      echo "perf: $perf_status"
    fi
  } >"$profile_file" 2>&1
  cat "$profile_file" >&2
else
  echo "profile skipped (--no-profile)" >"$profile_file"
fi

# ---------------------------------------------------------------------------------------------

say "results"
revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=false
[ -n "$(git -C "$root" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=true
"$python" - "$scratch/meta.json" <<PYTHON
import json, os, sys, time
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
meta = {
    "mode": "$mode", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "git_revision": "$revision", "git_dirty": "$dirty" == "true", "build_dir": "$build",
    "elapsed_s": $(($(date +%s) - started_at)),
    "machine": {"nproc": len(os.sched_getaffinity(0)), "model_name": model,
                "kernel": " ".join(os.uname()[2:5:2])},
    "loadavg_start": "$loadavg_start",
    "client": {"tool": "wrk", "threads": 2, "connections": $connections, "duration_s": $duration,
               "rounds": $rounds, "warmup_s": $warmup, "timeout_s": 5,
               "order": "alternating rounds: sqlite-1, postgres-1, postgres-3, sqlite-1, ...",
               "figure": "median of the rounds per set-up"},
    "catalog": $catalog,
    "setups": {
        "sqlite-1": "one node, configs/bench.toml (SQLite, WAL), server.threads=0 (one per core)",
        "postgres-1": "one node, configs/bench.toml + storage.backend=postgres, plugins.store_postgres.pool_size=16",
        "postgres-3": "three nodes, configs/bench.toml + storage.backend=postgres, server.threads=1, plugins.store_postgres.pool_size=8, one database, behind haproxy round-robin (http-reuse always, checks on admin /readyz)"},
    "haproxy_requests_per_server": "$haproxy_spread",
    "postgres": {"version": "$pg_version",
                 "settings": dict(json.loads('$pg_settings_json'), shared_buffers="$pg_shared_buffers",
                                  shared_preload_libraries="pg_stat_statements",
                                  track_wal_io_timing="on")},
    "profile_file": "$profile_file",
}
json.dump(meta, open(sys.argv[1], "w"))
PYTHON
"$python" "$helper" report "$measurements" "$out/$results_name.json" "$scratch/meta.json" "$profile_json" ||
  fail "report"
echo "results: $out/$results_name.json, profile: $profile_file ($(($(date +%s) - started_at)) s)" >&2
