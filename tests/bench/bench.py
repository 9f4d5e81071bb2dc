#!/usr/bin/env python3
"""Helpers of tests/bench/run.sh (standard library only).

  bench.py catalog N FILE [--price-offset K] [--no-inventory]   write an import file of N products
  bench.py check EXPECT LABEL < wrk-output                       validate one wrk round, print its JSON
  bench.py webhooks ...                                          scenario (e): deliveries per second
  bench.py startup ...                                           scenario (g): exec -> /healthz 200
  bench.py allocs ...                                            scenario (h): allocations per request
  bench.py report MEASUREMENTS OUT_JSON [--dat DIR] [--meta K=V]  results.json, the table, chart data

run.sh owns the processes; these only measure and compute.
"""

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import time
import urllib.request

CATEGORIES = ["audio", "computers", "kitchen", "fashion", "books", "toys", "garden", "sports"]
PRODUCT_ID = "prod_%06d"  # run.sh and bench.lua use the same format
# A scenario "errors" when more than this share of its answers is not the expected kind.
ERROR_TOLERANCE = 0.001


def die(message):
    print(f"bench.py: {message}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# catalog


def products(n, price_offset=0, inventory=True):
    for i in range(1, n + 1):
        product = {
            "id": PRODUCT_ID % i,
            "sku": "SKU-%06d" % i,
            "name": "Bench product %d" % i,
            "description": "A product generated for the Portico benchmark, number %d." % i,
            "category": CATEGORIES[i % len(CATEGORIES)],
            "price": {"amount": 1000 + (i * 37 + price_offset) % 100000, "currency": "KRW"},
            "status": "active",
            "attributes": {"brand": "Bench", "weight_g": 100 + i % 5000},
        }
        if inventory:
            # Far more than any run can order: stock never runs out.
            product["inventory"] = {"warehouses": [{"id": "icn-1", "available": 1000000000}]}
        yield product


def cmd_catalog(args):
    with open(args.file, "w", encoding="utf-8") as out:
        out.write("[\n")
        for i, product in enumerate(products(args.n, args.price_offset, not args.no_inventory)):
            out.write(("," if i else "") + json.dumps(product, separators=(",", ":")) + "\n")
        out.write("]\n")


# ---------------------------------------------------------------------------------------------
# check: one wrk round


def cmd_check(args):
    text = sys.stdin.read()
    line = next((l for l in text.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        die(f"{args.label}: wrk printed no result line:\n{text}")
    result = json.loads(line[len("BENCH_JSON "):])
    requests = result["requests"]
    errors = result["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    if requests == 0:
        die(f"{args.label}: no request completed ({errors})")
    if args.expect == "2xx":
        bad = errors["non2xx"] + socket_errors
        what = "non-2xx answers or socket errors"
    else:  # every answer should be an error status (the 401 path)
        bad = requests - errors["non2xx"] + socket_errors
        what = "answers that were not errors, or socket errors"
    if bad > ERROR_TOLERANCE * requests:
        die(f"{args.label}: {bad} of {requests} {what} (tolerance {ERROR_TOLERANCE:.1%}): {errors}")
    latency = result["latency_ms"]
    print(f"    {args.label:<38} {result['rps']:9.0f} req/s  p50 {latency['p50']:6.2f} ms  "
          f"p99 {latency['p99']:7.2f} ms  non-2xx {errors['non2xx']}", file=sys.stderr)
    print(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# same-response-conf: the nginx peer's conf, answering Portico's own response


# Header lines nginx writes itself; the rest of Portico's are added as they are.
NGINX_OWN = {"server", "date", "content-length", "connection", "content-type"}
RETURN_200 = re.compile(r"return 200 '(?:[^'\\]|\\.)*';")


def nginx_quoted(text, what):
    if "$" in text:  # nginx would read a variable in it
        die(f"same-response-conf: the {what} has a '$', which nginx cannot send as it is: {text!r}")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def cmd_same_response_conf(args):
    """The peer's conf with its answer replaced by Portico's (curl -si output on stdin): the same
    header lines (but those nginx writes itself) and the same body, on another port. What (a)'s
    response costs the client and the kernel, apart from what the gateway does to make it."""
    raw = sys.stdin.buffer.read().decode("utf-8", "replace")
    head, sep, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    if not sep or not lines[0].startswith("HTTP/1.1 200"):
        die(f"same-response-conf: not a 200 response on stdin: {lines[0]!r}")
    content_type, headers = None, []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            die(f"same-response-conf: not a header line: {line!r}")
        value = value.strip()
        if name.lower() == "content-type":
            content_type = value
        elif name.lower() not in NGINX_OWN:
            headers.append((name, value))
    with open(args.peer_conf, encoding="utf-8") as f:
        conf = f.read()
    if len(RETURN_200.findall(conf)) != 1 or conf.count("listen 127.0.0.1:18080") != 1:
        die(f"same-response-conf: {args.peer_conf} does not have the one `return 200 '...';` and "
            "`listen 127.0.0.1:18080` this expects")
    answer = "".join(f"add_header {name} {nginx_quoted(value, name)};\n      "
                     for name, value in headers)
    answer += "return 200 " + nginx_quoted(body, "body") + ";"
    conf = RETURN_200.sub(lambda _: answer, conf)
    conf = conf.replace("listen 127.0.0.1:18080", f"listen 127.0.0.1:{args.port}")
    if content_type:
        conf = re.sub(r"default_type [^;]*;", f"default_type {nginx_quoted(content_type, 'type')};",
                      conf)
    sys.stdout.write(conf)


# ---------------------------------------------------------------------------------------------
# webhooks: scenario (e)


def http(method, url, token=None, body=None, key=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if key:
        request.add_header("X-API-Key", key)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def receiver_times(path):
    """The $msec of every line of the receiver's access log (format: '$msec $status ...')."""
    times, statuses = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                times.append(float(parts[0]))
                statuses[parts[1]] = statuses.get(parts[1], 0) + 1
    return times, statuses


def delivery_rows(db, endpoint):
    """(rows, succeeded) of the endpoint in webhook_deliveries, read-only; None if unreadable."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            rows = con.execute(
                "SELECT count(*), coalesce(sum(state = 'succeeded'), 0) FROM webhook_deliveries "
                "WHERE endpoint_id = ?", (endpoint,)).fetchone()
            return int(rows[0]), int(rows[1])
        finally:
            con.close()
    except sqlite3.Error:
        return None


def cmd_webhooks(args):
    """Pause the receiver, create N product.updated events by re-importing the catalog with new
    prices (1000 per import, one transaction each), let the gateway fan them out, resume the
    receiver and time until the receiver has answered all N deliveries."""
    per_import = min(args.catalog, 1000)
    imports = max(1, args.events // per_import)
    total = imports * per_import
    start_lines = count_lines(args.receiver_log)
    os.kill(args.receiver_pid, signal.SIGSTOP)
    try:
        generated_at = time.time()
        for round_ in range(imports):
            batch = list(products(per_import, price_offset=(round_ + 1) * 7, inventory=False))
            # Each round changes the price of every product: per_import events per import.
            status, _ = http("POST", f"{args.admin}/admin/v1/products/import", args.token, batch)
            if status != 200:
                die(f"webhooks: import answered {status}")
        generated_s = time.time() - generated_at
        # Wait until the delivery plugin has fanned every event out to the endpoint (its
        # durable queue), so the clock below measures delivery, not the outbox walk. The
        # receiver must not stay paused near the 15 s delivery timeout.
        fanned = None
        deadline = time.time() + max(2.0, 12.0 - generated_s)
        while time.time() < deadline:
            rows = delivery_rows(args.db, args.endpoint)
            if rows is None:
                time.sleep(1.0)  # cannot look: give the fan-out a fixed second
                break
            fanned = rows[0]
            if fanned >= total:
                break
            time.sleep(0.02)
        queued_s = time.time() - generated_at
    finally:
        os.kill(args.receiver_pid, signal.SIGCONT)
    resumed_at = time.time()
    deadline = resumed_at + args.timeout
    while count_lines(args.receiver_log) - start_lines < total:
        if time.time() > deadline:
            got = count_lines(args.receiver_log) - start_lines
            die(f"webhooks: only {got} of {total} deliveries reached the receiver in {args.timeout} s")
        time.sleep(0.01)
    time.sleep(0.05)
    times, statuses = receiver_times(args.receiver_log)
    times = times[start_lines:]
    last = sorted(times)[total - 1]
    seconds = max(last - resumed_at, 1e-6)
    non2xx = sum(n for s, n in statuses.items() if not s.startswith("2"))
    # Portico's own record: every delivery of the endpoint succeeded.
    rows = None
    for _ in range(50):
        rows = delivery_rows(args.db, args.endpoint)
        if rows is None or rows[1] >= total:
            break
        time.sleep(0.1)
    result = {
        "events": total,
        "imports": imports,
        "generate_s": round(generated_s, 3),
        "queued_s": round(queued_s, 3),
        "fanned_out_before_resume": fanned,
        "deliver_s": round(seconds, 3),
        "deliveries_per_s": round(total / seconds, 1),
        "end_to_end_per_s": round(total / max(last - generated_at, 1e-6), 1),
        "receiver_requests": len(times),
        "receiver_non2xx": non2xx,
        "portico_rows": rows[0] if rows else None,
        "portico_succeeded": rows[1] if rows else None,
    }
    if rows is not None and rows[1] < total:
        die(f"webhooks: Portico recorded {rows[1]} of {total} deliveries as succeeded: {result}")
    print(json.dumps(result))


# ---------------------------------------------------------------------------------------------
# startup: scenario (g)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def cmd_startup(args):
    runs = []
    for i in range(args.runs):
        port = free_port()
        command = [args.binary, "serve", "-c", args.config,
                   "--set", f"server.listen=127.0.0.1:{port}", "--set", "admin.listen=127.0.0.1:0"]
        for setting in args.set or []:
            command += ["--set", setting]
        with open(f"{args.log}.{i}", "wb") as log:
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                while not healthz(port):
                    if process.poll() is not None:
                        die(f"startup: portico exited with {process.returncode}; see {args.log}.{i}")
                    if time.perf_counter() - started > 30:
                        die(f"startup: no /healthz 200 within 30 s; see {args.log}.{i}")
                    time.sleep(0.002)
                runs.append(round((time.perf_counter() - started) * 1000, 1))
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    print(json.dumps({"runs_ms": runs, "best_ms": min(runs), "median_ms": statistics.median(runs)}))


# ---------------------------------------------------------------------------------------------
# allocations


ALLOC_SLOT = struct.Struct("<qQQ")  # tid, allocations, bytes (tests/bench/alloc_count.cpp)


def read_alloc_counters(path):
    """{tid: (allocations, bytes)} from the file libportico_alloc_count.so keeps."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:8] != b"PALLOC01":
        die(f"allocs: {path} is not an allocation counter file (was the library preloaded?)")
    slots, used = struct.unpack_from("<QQ", data, 8)
    out = {}
    for i in range(min(slots, used)):
        tid, allocations, size = ALLOC_SLOT.unpack_from(data, 24 + i * ALLOC_SLOT.size)
        out[(i, tid)] = (allocations, size)
    return out


def thread_name(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/comm", encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return "exited" if tid >= 0 else "overflow"


def read_response(sock, buffer):
    """Reads one HTTP/1.1 response (Content-Length framed) off `sock`; returns (status, rest)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            die("allocs: the connection closed before a response")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            die("allocs: the connection closed inside a body")
        rest += chunk
    return status, rest[length:]


def cmd_allocs(args):
    """(h): heap allocations per request on keep-alive connections, from the counters the
    preloaded libportico_alloc_count.so keeps. Each scenario: warm-up requests, then the counters
    read, `requests` requests spread over `connections` connections (both I/O threads), the
    counters read again; per thread, what it allocated meanwhile."""
    import random
    rng = random.Random(7)
    scenarios = [
        ("product_detail", args.key, lambda: PRODUCT_ID % rng.randint(1, args.catalog), 200),
        ("unauthorized", args.bad_key, lambda: PRODUCT_ID % 1, 401),
    ]
    results = {}
    for name, key, pick, expect in scenarios:
        socks = [socket.create_connection(("127.0.0.1", args.port), timeout=10)
                 for _ in range(args.connections)]
        buffers = [b""] * len(socks)

        def run(count):
            for i in range(count):
                c = i % len(socks)
                request = (f"GET /v1/products/{pick()} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n"
                           f"X-API-Key: {key}\r\n\r\n").encode()
                socks[c].sendall(request)
                status, buffers[c] = read_response(socks[c], buffers[c])
                if status != expect:
                    die(f"allocs: {name} answered {status}, expected {expect}")

        if name == "product_detail":
            # Every product read once first: a restarted gateway renders each on its first read
            # (on a worker); steady state is the cached read.
            ids = iter(range(1, args.catalog + 1))
            pick_random, pick = pick, (lambda: PRODUCT_ID % next(ids))
            run(args.catalog)
            pick = pick_random
        # Steady state: the counted requests repeat a load the gateway has served as long. The
        # access log's lanes keep as many blocks as that load's batches need, and a batch is what
        # arrives between two rounds of the writer (100 ms): 2,000 requests (~0.1 s) were less
        # than one round, and the lanes were still growing while the requests were counted.
        run(args.warmup if args.warmup is not None else args.requests)
        time.sleep(0.3)  # let the access log's writer take the warm-up's lines
        before = read_alloc_counters(args.counters)
        started = time.perf_counter()
        run(args.requests)
        elapsed = time.perf_counter() - started
        time.sleep(0.3)  # ... and the measured ones: their batch is part of the cost
        after = read_alloc_counters(args.counters)
        for s in socks:
            s.close()
        threads = {}
        for slot, (allocations, size) in after.items():
            was = before.get(slot, (0, 0))
            moved = allocations - was[0]
            if moved:
                label = thread_name(args.pid, slot[1])
                got = threads.setdefault(label, [0, 0])
                got[0] += moved
                got[1] += size - was[1]
        total = sum(a for a, _ in threads.values())
        total_bytes = sum(b for _, b in threads.values())
        # The threads that serve requests: the I/O loops (the main thread runs the first) and
        # the worker pool. The rest is periodic work (the access log's writer, the flushes).
        serving = sum(a for label, (a, _) in threads.items()
                      if label == "portico" or label.startswith(("io-", "worker-")))
        results[name] = {
            "requests": args.requests,
            "connections": args.connections,
            "seconds": round(elapsed, 2),
            "allocations": total,
            "allocations_per_request": round(total / args.requests, 3),
            "bytes_per_request": round(total_bytes / args.requests, 1),
            "serving_threads_per_request": round(serving / args.requests, 3),
            "by_thread": {label: {"allocations": a, "bytes": b}
                          for label, (a, b) in sorted(threads.items(), key=lambda t: -t[1][0])},
        }
    print(json.dumps(results))


# ---------------------------------------------------------------------------------------------
# report


SCENARIOS = {
    "product_detail": "(a) GET /v1/products/{id}, API key + rate limit",
    "product_list": "(b) GET /v1/products?limit=20",
    "unauthorized": "(c) GET /v1/products/{id} with a bad key (401)",
    "orders": "(d) POST /v1/orders, unique Idempotency-Key",
}


def median_of(rounds):
    def med(get):
        return statistics.median(get(r) for r in rounds)

    return {
        "rps": round(med(lambda r: r["rps"]), 1),
        "p50_ms": round(med(lambda r: r["latency_ms"]["p50"]), 3),
        "p99_ms": round(med(lambda r: r["latency_ms"]["p99"]), 3),
        "requests": sum(r["requests"] for r in rounds),
        "non2xx": sum(r["errors"]["non2xx"] for r in rounds),
        "socket_errors": sum(r["errors"]["connect"] + r["errors"]["read"] + r["errors"]["write"]
                             + r["errors"]["timeout"] for r in rounds),
        # sampled for Portico only
        "rss_peak_mb": round(max(r.get("rss_peak_kb", 0) for r in rounds) / 1024, 1) or None,
    }


def group(measurements):
    """{scenario: [{peer, connections, catalog, rounds: [...], median: {...}}]}"""
    groups = {}
    for m in measurements:
        key = (m["scenario"], m["peer"], m["connections"], m["catalog"])
        groups.setdefault(key, []).append(m)
    out = {}
    for (scenario, peer, connections, catalog), items in sorted(groups.items()):
        rounds = []
        for i in items:
            r = dict(i["wrk"], loadavg_1m=i.get("loadavg"))
            if i.get("rss_peak_kb"):
                r["rss_peak_kb"] = i["rss_peak_kb"]
            rounds.append(r)
        out.setdefault(scenario, []).append({
            "peer": peer, "connections": connections, "catalog": catalog,
            "rounds": rounds, "median": median_of(rounds)})
    return out


def find(results, scenario, peer, connections=None, catalog=None):
    for r in results.get(scenario, []):
        if r["peer"] == peer and (connections is None or r["connections"] == connections) and (
                catalog is None or r["catalog"] == catalog):
            return r["median"]
    return None


def verdict(value, target, higher_is_better):
    if value is None:
        return None
    return value >= target if higher_is_better else value <= target


def machine():
    model = "unknown"
    memory_mb = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                         model)
        with open("/proc/meminfo", encoding="utf-8") as f:
            memory_mb = next((int(l.split()[1]) // 1024 for l in f if l.startswith("MemTotal")),
                             None)
    except OSError:
        pass
    uname = os.uname()
    with open("/proc/loadavg", encoding="utf-8") as f:
        loadavg_end = " ".join(f.read().split()[:3])
    return {"nproc": len(os.sched_getaffinity(0)), "model_name": model,
            "kernel": f"{uname.sysname} {uname.release} {uname.machine}",
            "memory_mb": memory_mb, "loadavg_end": loadavg_end}


def build_meta(pairs):
    m = dict(p.split("=", 1) for p in pairs or [])
    info = machine()
    info["loadavg_start"] = m.get("loadavg_start")
    return {
        "mode": m.get("mode", "full"),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_revision": m.get("git_revision", "unknown"),
        "git_dirty": m.get("git_dirty") == "true",
        "build_dir": m.get("build_dir"),
        "elapsed_s": int(m.get("elapsed_s", "0")),
        "machine": info,
        "tools": {"wrk": m.get("wrk_version"), "nginx": m.get("nginx_version")},
        "client": {"tool": "wrk", "threads": 2, "duration_s": int(m.get("duration_s", "0")),
                   "rounds": int(m.get("rounds", "0")),
                   "connections": int(m.get("connections", "64")),
                   "connection_levels": [int(c) for c in m.get("connection_levels", "").split()],
                   "timeout_s": 5, "order": "alternating rounds: nginx, Portico, nginx, ...",
                   "figure": "median of the rounds per peer"},
        "catalog_sizes": [int(c) for c in m.get("catalog_sizes", "1000").split()],
        "peer": {"name": "nginx", "conf": m.get("peer_conf"), "status": m.get("peer_status")},
        "webhook_events": int(m.get("webhook_events", "0")),
    }


def cmd_report(args):
    with open(args.measurements, encoding="utf-8") as f:
        measurements = [json.loads(l) for l in f if l.strip()]
    meta = build_meta(args.meta)
    wrk_rounds = [m for m in measurements if m.get("kind", "wrk") == "wrk"]
    extra = {m["kind"]: m["result"] for m in measurements if m.get("kind", "wrk") != "wrk"}
    results = group(wrk_rounds)
    conns = meta["client"]["connections"]
    small = meta["catalog_sizes"][0]

    a_p = find(results, "product_detail", "portico", conns, small)
    a_n = find(results, "product_detail", "nginx", conns, small)
    c_p = find(results, "unauthorized", "portico", conns, small)
    c_n = find(results, "unauthorized", "nginx", conns, small)
    d_p = find(results, "orders", "portico", conns, small)
    hooks = extra.get("webhooks")
    rss = extra.get("rss", {})
    startup = extra.get("startup")
    allocs = extra.get("allocs", {})
    b_p = find(results, "product_list", "portico", conns, small)

    def ratio(x, y, field):
        return round(x[field] / y[field], 3) if x and y and y[field] else None

    targets = [
        {"id": "a.throughput", "what": "(a) product detail req/s, Portico ÷ nginx",
         "value": ratio(a_p, a_n, "rps"), "target": 1.0, "op": ">=", "unit": "×"},
        {"id": "a.p99", "what": "(a) product detail p99, Portico ÷ nginx",
         "value": ratio(a_p, a_n, "p99_ms"), "target": 1.5, "op": "<=", "unit": "×"},
    ]
    # (a) at the other connection levels of the sweep (the full run: 16 and 256).
    for c in meta["client"].get("connection_levels", []):
        if c == conns:
            continue
        p, n = (find(results, "product_detail", peer, c, small) for peer in ("portico", "nginx"))
        targets += [
            {"id": f"a.throughput.c{c}", "what": f"(a) at {c} connections, Portico ÷ nginx",
             "value": ratio(p, n, "rps"), "target": 1.0, "op": ">=", "unit": "×"},
            {"id": f"a.p99.c{c}", "what": f"(a) p99 at {c} connections, Portico ÷ nginx",
             "value": ratio(p, n, "p99_ms"), "target": 1.5, "op": "<=", "unit": "×"},
        ]
    targets += [
        {"id": "b.list", "what": "(b) list page req/s ÷ nginx's (a)",
         "value": ratio(b_p, a_n, "rps"), "target": 0.5, "op": ">=", "unit": "×"},
        {"id": "c.throughput", "what": "(c) the 401 path req/s, Portico ÷ nginx",
         "value": ratio(c_p, c_n, "rps"), "target": 1.0, "op": ">=", "unit": "×"},
        {"id": "d.orders", "what": "(d) orders created per second",
         "value": d_p["rps"] if d_p else None, "target": 5000, "op": ">=", "unit": "/s"},
        {"id": "e.webhooks", "what": "(e) webhook deliveries per second",
         "value": hooks["deliveries_per_s"] if hooks else None, "target": 2000, "op": ">=",
         "unit": "/s"},
        {"id": "f.rss_idle", "what": "(f) RSS idle",
         "value": rss.get("idle_mb"), "target": 30, "op": "<=", "unit": "MB"},
        {"id": "f.rss_load", "what": "(f) RSS under load",
         "value": rss.get("load_mb"), "target": 100, "op": "<=", "unit": "MB"},
        {"id": "g.startup", "what": "(g) start-up, exec → /healthz 200 (best)",
         "value": startup["best_ms"] if startup else None, "target": 300, "op": "<=",
         "unit": "ms"},
        {"id": "h.allocs_a", "what": "(h) heap allocations per request, (a)",
         "value": allocs.get("product_detail", {}).get("allocations_per_request"), "target": 0,
         "op": "<=", "unit": ""},
        {"id": "h.allocs_c", "what": "(h) heap allocations per request, (c)",
         "value": allocs.get("unauthorized", {}).get("allocations_per_request"), "target": 0,
         "op": "<=", "unit": ""},
    ]
    for t in targets:
        met = verdict(t["value"], t["target"], t["op"] == ">=")
        t["met"] = met
        t["verdict"] = "n/a" if met is None else ("met" if met else "missed")

    document = dict(meta)
    document["scenarios"] = {
        name: {"description": SCENARIOS[name], "results": results.get(name, [])}
        for name in SCENARIOS if name in results}
    document["scenarios"]["unauthorized"] = document["scenarios"].get("unauthorized", {})
    if c_p and c_n:
        document["scenarios"]["unauthorized"]["portico_over_nginx_rps"] = ratio(c_p, c_n, "rps")
    if hooks:
        document["scenarios"]["webhooks"] = dict(
            description="(e) webhook deliveries to a local nginx receiver (204)", **hooks)
    document["scenarios"]["rss"] = dict(description="(f) VmRSS/VmHWM of the Portico process",
                                        **rss)
    if startup:
        document["scenarios"]["startup"] = dict(
            description="(g) exec → /healthz 200, all plugins loaded, on the benchmark's "
                        "database (best and median of the runs)", **startup)
        if extra.get("startup_fresh"):
            document["scenarios"]["startup"]["fresh_database_ms"] = \
                extra["startup_fresh"]["best_ms"]
    if allocs:
        document["scenarios"]["allocs"] = dict(
            description="(h) heap allocations per request over keep-alive requests (a preloaded "
                        "malloc counter), by thread", **allocs)
    a_s = find(results, "product_detail", "nginx_same", conns, small)
    if a_s and a_n and a_p:
        document["scenarios"]["product_detail"]["same_response"] = {
            "description": "(a) against the peer's conf answering Portico's own response (its "
                           "header lines and body): information, not a target",
            "connections": conns, "nginx_same_rps": a_s["rps"],
            "nginx_same_over_nginx_rps": ratio(a_s, a_n, "rps"),
            "portico_over_nginx_same_rps": ratio(a_p, a_s, "rps")}
    document["targets"] = targets
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print_table(document, results, conns, small)
    if args.dat:
        write_dat(args.dat, document, results, conns, small)


def fmt(value, unit=""):
    if value is None:
        return "—"
    if isinstance(value, float) and abs(value) < 100 and unit in ("×", "ms", ""):
        text = f"{value:.2f}"
    elif isinstance(value, (int, float)):
        text = f"{value:,.0f}"
    else:
        text = str(value)
    return text + ("" if unit in ("", "/s") else " " + unit if unit != "×" else "×")


def row(cells, widths):
    return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = [row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [row(r, widths) for r in rows]
    return "\n".join(lines)


def print_table(document, results, conns, small):
    m = document["machine"]
    print(f"\nPortico benchmark ({document['mode']}), {document['date']}, rev "
          f"{document['git_revision']}, {m['nproc']} × {m['model_name']}, wrk -t2 -c{conns} "
          f"-d{document['client']['duration_s']}s, median of {document['client']['rounds']} "
          f"round(s) per peer, catalog {small:,}\n")
    rows = []
    for name, label in SCENARIOS.items():
        p = find(results, name, "portico", conns, small)
        n = find(results, name, "nginx", conns, small)
        if not p:
            continue
        rows.append([label, fmt(p["rps"], "/s"), fmt(p["p50_ms"], "ms"), fmt(p["p99_ms"], "ms"),
                     fmt(n["rps"], "/s") if n else "—", fmt(n["p99_ms"], "ms") if n else "—",
                     fmt(round(p["rps"] / n["rps"], 2), "×") if n else "—"])
    print(table(["scenario", "Portico req/s", "p50", "p99", "nginx req/s", "nginx p99",
                 "Portico ÷ nginx"], rows))
    print()
    rows = [[t["what"], fmt(t["value"], t["unit"]), f"{t['op']} {fmt(t['target'], t['unit'])}",
             t["verdict"]] for t in document["targets"]]
    print(table(["target", "measured", "target", "verdict"], rows))
    same = document["scenarios"].get("product_detail", {}).get("same_response")
    if same:
        print(f"\n(a) at {same['connections']} connections, nginx answering Portico's own response "
              f"(its header lines and body): {fmt(same['nginx_same_rps'], '/s')} req/s, "
              f"{fmt(same['nginx_same_over_nginx_rps'], '×')} the peer; Portico ÷ it: "
              f"{fmt(same['portico_over_nginx_same_rps'], '×')} (information, not a target)")
    growth = [r for r in results.get("product_detail", []) if r["catalog"] == small]
    levels = sorted({r["connections"] for r in growth})
    if len(levels) > 1:
        print("\n(a) by connections")
        rows = []
        for c in levels:
            p = find(results, "product_detail", "portico", c, small)
            n = find(results, "product_detail", "nginx", c, small)
            rows.append([c, fmt(p["rps"], "/s") if p else "—", fmt(p["p99_ms"], "ms") if p else "—",
                         fmt(n["rps"], "/s") if n else "—", fmt(n["p99_ms"], "ms") if n else "—",
                         fmt(round(p["rps"] / n["rps"], 2), "×") if p and n else "—"])
        print(table(["connections", "Portico req/s", "Portico p99", "nginx req/s", "nginx p99",
                     "ratio"], rows))
    sizes = sorted({r["catalog"] for s in ("product_detail", "product_list")
                    for r in results.get(s, []) if r["peer"] == "portico"})
    if len(sizes) > 1:
        print("\nCatalog size (Portico, %d connections)" % conns)
        rows = []
        for s in ("product_detail", "product_list"):
            for size in sizes:
                p = find(results, s, "portico", conns, size)
                if p:
                    rows.append([SCENARIOS[s][:3], f"{size:,}", fmt(p["rps"], "/s"),
                                 fmt(p["p50_ms"], "ms"), fmt(p["p99_ms"], "ms"),
                                 fmt(p["rss_peak_mb"], "MB")])
        print(table(["", "products", "req/s", "p50", "p99", "peak RSS"], rows))
    print()


def write_dat(directory, document, results, conns, small):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "scenarios.dat"), "w", encoding="utf-8") as f:
        f.write("# scenario portico_rps nginx_rps portico_large_catalog_rps\n")
        large = max(document["catalog_sizes"])
        for name, label in SCENARIOS.items():
            p = find(results, name, "portico", conns, small)
            n = find(results, name, "nginx", conns, small)
            big = find(results, name, "portico", conns, large) if large != small else None
            if p:
                f.write('"%s" %.1f %s %s\n' % (label[:3] + " " + name.replace("_", " "), p["rps"],
                                                "%.1f" % n["rps"] if n else "NaN",
                                                "%.1f" % big["rps"] if big else "NaN"))
    with open(os.path.join(directory, "connections.dat"), "w", encoding="utf-8") as f:
        f.write("# connections portico_rps portico_p99_ms nginx_rps nginx_p99_ms\n")
        levels = sorted({r["connections"] for r in results.get("product_detail", [])})
        for c in levels:
            p = find(results, "product_detail", "portico", c, small)
            n = find(results, "product_detail", "nginx", c, small)
            f.write("%d %s %s %s %s\n" % (
                c, p["rps"] if p else "NaN", p["p99_ms"] if p else "NaN",
                n["rps"] if n else "NaN", n["p99_ms"] if n else "NaN"))
    with open(os.path.join(directory, "targets.dat"), "w", encoding="utf-8") as f:
        f.write("# target measured_over_target met\n")
        for t in document["targets"]:
            if t["value"] is None:
                continue
            share = t["value"] / t["target"] if t["target"] else 0.0
            if t["op"] == "<=":  # express every target as "higher is better": target / value
                if t["value"] <= t["target"]:
                    share = max(1.0, t["target"] / t["value"] if t["value"] else 1.0)
                else:
                    share = t["target"] / t["value"]
            f.write('"%s" %.3f %d\n' % (t["id"], share, 1 if t["met"] else 0))


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("catalog")
    p.add_argument("n", type=int)
    p.add_argument("file")
    p.add_argument("--price-offset", type=int, default=0)
    p.add_argument("--no-inventory", action="store_true")
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser("check")
    p.add_argument("expect", choices=["2xx", "error"])
    p.add_argument("label")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("same-response-conf")
    p.add_argument("peer_conf")
    p.add_argument("port", type=int)
    p.set_defaults(func=cmd_same_response_conf)

    p = sub.add_parser("webhooks")
    p.add_argument("--admin", required=True)
    p.add_argument("--token", default=os.environ.get("PORTICO_ADMIN_TOKEN", ""))
    p.add_argument("--endpoint", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--receiver-pid", type=int, required=True)
    p.add_argument("--receiver-log", required=True)
    p.add_argument("--catalog", type=int, required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(func=cmd_webhooks)

    p = sub.add_parser("startup")
    p.add_argument("--binary", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--set", action="append")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--log", required=True)
    p.set_defaults(func=cmd_startup)

    p = sub.add_parser("allocs")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--counters", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--bad-key", required=True)
    p.add_argument("--catalog", type=int, required=True)
    p.add_argument("--requests", type=int, default=10000)
    p.add_argument("--warmup", type=int, help="requests before the counted ones (default: as many)")
    p.add_argument("--connections", type=int, default=4)
    p.set_defaults(func=cmd_allocs)

    p = sub.add_parser("report")
    p.add_argument("measurements")
    p.add_argument("out")
    p.add_argument("--dat")
    p.add_argument("--meta", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_report)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
