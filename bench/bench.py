#!/usr/bin/env python3
# Benchmark driver behind `scripts/dev bench` (issue 8): cutover write downtime, scale to hundreds
# of tables, and poll cost, on pegasus-sim with a real ZooKeeper. Python 3 stdlib only; every
# process it starts is stopped by its pid. docs/benchmarks.md explains the scenarios and figures.
"""Runs the table-migrator benchmark scenarios and prints one summary line per scenario."""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_META_RPS = 200  # table-migrator's --meta-rps default (include/tablemigrator/cli/options.hpp)

# Real-server timings (pegasus-progress-and-cutover.md §6.1) and the tiny ones of the smoke test.
FULL = {
    "cutover": {"tables": 50, "partitions": 8, "src_nodes": 10, "dst_nodes": 5, "sync_ms": 30000,
                "dup_ms": 10000, "checkpoint_ms": 2000, "rate": 20, "warmup_s": 5,
                "fast_ms": 1000},
    "scale": {"counts": [1, 100, 500], "partitions": 16, "src_nodes": 10, "dst_nodes": 5,
              "sync_ms": 30000, "dup_ms": 10000, "checkpoint_ms": 2000, "shipping_rate": 1000,
              "preload_rate": 4, "preload_s": 5, "extra_meta_rps": 500},
    # Duplication sync 1 s and a 3 s checkpoint copy: the meta's backlog view is fresh when DS_LOG
    # starts (with 10 s it can still show 0 there and the tool would freeze at once with -p 0).
    "idle": {"partitions": 8, "src_nodes": 3, "dst_nodes": 3, "sync_ms": 30000, "dup_ms": 1000,
             "checkpoint_ms": 3000, "shipping_rate": 1, "rate": 40, "window_s": 60},
}
SMOKE = {
    "cutover": {"tables": 2, "partitions": 4, "src_nodes": 3, "dst_nodes": 3, "sync_ms": 1500,
                "dup_ms": 500, "checkpoint_ms": 300, "rate": 20, "warmup_s": 1, "fast_ms": 300},
    "scale": {"counts": [1, 2], "partitions": 4, "src_nodes": 3, "dst_nodes": 3, "sync_ms": 1000,
              "dup_ms": 500, "checkpoint_ms": 300, "shipping_rate": 1000, "preload_rate": 10,
              "preload_s": 1},
    "idle": {"partitions": 4, "src_nodes": 3, "dst_nodes": 3, "sync_ms": 1000, "dup_ms": 500,
             "checkpoint_ms": 1500, "shipping_rate": 1, "rate": 40, "window_s": 3},
}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def unix_ms():
    return int(time.time() * 1000)


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(1, -(-len(v) * p // 100))  # ceil(n*p/100), at least 1
    return v[min(len(v), int(k)) - 1]


def _crc64_table():
    # Pegasus' CRC-64 (reflected polynomial 0x9A6C9329AC4BC9B5), as in src/wire/key.cpp.
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x9A6C9329AC4BC9B5 if c & 1 else c >> 1
        table.append(c)
    return table


CRC64_TABLE = _crc64_table()


def crc64(data):
    c = 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = CRC64_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


def partition_gaps(record, partition_count):
    """Largest interval between consecutive acknowledgements per (table, partition) of a record."""
    acks = {}
    with open(record) as f:
        for line in f:
            parts = line.split(" ")
            if len(parts) < 6 or parts[0] != "ack":
                continue
            table, at, hash_key = parts[1], int(parts[2]), parts[4]
            pidx = crc64(hash_key.encode()) % partition_count
            acks.setdefault((table, pidx), set()).add(at)
    gaps = {}
    for key, times in acks.items():
        t = sorted(times)
        gaps[key] = max((b - a for a, b in zip(t, t[1:])), default=0)
    return gaps


class BenchError(Exception):
    pass


# ---- processes: started here, stopped by pid ------------------------------------------------


class Processes:
    def __init__(self):
        self.live = []  # Popen objects not yet reaped

    def start(self, cmd, out, err, **kw):
        p = subprocess.Popen(cmd, stdout=open(out, "wb"), stderr=open(err, "wb"),
                             stdin=subprocess.DEVNULL, **kw)
        self.live.append(p)
        return p

    @staticmethod
    def peak_rss_kb(pid):
        """VmHWM of a live process (peak resident set since its exec), or None."""
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
        return None

    def wait(self, p, timeout):
        """Reaps p with os.wait4; returns (exit code, rusage) or raises BenchError on timeout.
        p.peak_rss_kb is the last VmHWM read while it ran: ru_maxrss would also count the forked
        Python image before the exec."""
        deadline = time.monotonic() + timeout
        p.peak_rss_kb = 0
        while True:
            hwm = self.peak_rss_kb(p.pid)
            if hwm:
                p.peak_rss_kb = max(p.peak_rss_kb, hwm)
            pid, st, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                p.returncode = os.waitstatus_to_exitcode(st)
                self.live.remove(p)
                return p.returncode, ru
            if time.monotonic() > deadline:
                raise BenchError(f"{p.args[0]} (pid {p.pid}) still running after {timeout:.0f}s")
            time.sleep(0.05)

    def stop(self, p, grace):
        """SIGTERM, wait up to grace seconds, then SIGKILL. Returns (exit code, rusage)."""
        if p not in self.live:
            return p.returncode, None
        try:
            os.kill(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            return self.wait(p, grace)
        except BenchError:
            log(f"{p.args[0]} (pid {p.pid}) ignored SIGTERM for {grace}s; killing it")
            os.kill(p.pid, signal.SIGKILL)
            return self.wait(p, 10)

    def stop_all(self):
        for p in list(self.live):
            self.stop(p, 5)


# ---- ZooKeeper: the throwaway server of scripts/zk-server and a minimal jute client -----------


class ZooKeeper:
    def __init__(self, work):
        self.dir = os.path.join(work, "zk")
        self.port = None

    def start(self):
        out = subprocess.run([os.path.join(ROOT, "scripts", "zk-server"), "start", self.dir],
                             check=True, capture_output=True, text=True, timeout=60)
        self.port = int(out.stdout.strip().splitlines()[-1])
        return f"127.0.0.1:{self.port}"

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "zk-server"), "stop", self.dir],
                       check=False, timeout=30)

    def create(self, nodes):
        """Creates persistent znodes (path, data) in order with an open ACL; existing ones are kept."""

        def string(b):
            return struct.pack(">i", len(b)) + b

        s = socket.create_connection(("127.0.0.1", self.port), timeout=15)
        buf = b""

        def send(payload):
            s.sendall(struct.pack(">i", len(payload)) + payload)

        def recv():
            nonlocal buf
            while True:
                if len(buf) >= 4:
                    n = struct.unpack(">i", buf[:4])[0]
                    if len(buf) >= 4 + n:
                        frame, buf = buf[4:4 + n], buf[4 + n:]
                        return frame
                chunk = s.recv(65536)
                if not chunk:
                    raise BenchError("ZooKeeper closed the connection")
                buf += chunk

        try:
            # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly.
            send(struct.pack(">iqiq", 0, 0, 10000, 0) + string(b"\0" * 16) + b"\0")
            recv()
            acl = struct.pack(">ii", 1, 31) + string(b"world") + string(b"anyone")
            for xid, (path, data) in enumerate(nodes, start=1):
                send(struct.pack(">ii", xid, 1) + string(path.encode()) + string(data) + acl +
                     struct.pack(">i", 0))
            for _ in nodes:
                reply = recv()
                xid, _zxid, err = struct.unpack(">iqi", reply[:16])
                if err not in (0, -110):  # -110 = NodeExists
                    raise BenchError(f"ZooKeeper create of {nodes[xid - 1][0]} failed: error {err}")
            send(struct.pack(">ii", len(nodes) + 1, -11))  # closeSession
            recv()
        finally:
            s.close()


# ---- pegasus-sim ----------------------------------------------------------------------------


class Sim:
    def __init__(self, bench, name, config):
        self.bench = bench
        self.dir = os.path.join(bench.work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config_path = os.path.join(self.dir, "sim.json")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=1)
        self.proc = None
        self.ports = None

    def start(self):
        ports_file = os.path.join(self.dir, "ports.json")
        self.proc = self.bench.procs.start(
            [self.bench.bin("sim"), "--config", self.config_path, "--ports-file", ports_file,
             "--log-level", "warn"],
            os.path.join(self.dir, "sim.out"), os.path.join(self.dir, "sim.log"))
        deadline = time.monotonic() + 60
        while not os.path.exists(ports_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"pegasus-sim did not start; see {self.dir}/sim.log")
            time.sleep(0.05)
        with open(ports_file) as f:
            self.ports = json.load(f)

    def metas(self, cluster):
        return self.ports["clusters"][cluster]["meta_list"]

    def admin(self, path):
        url = f"http://127.0.0.1:{self.ports['admin']}{path}"
        with urllib.request.urlopen(url, timeout=60) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc is not None:
            self.bench.procs.stop(self.proc, 10)


def sim_config(zk, tables, partitions, src_nodes, dst_nodes, timing):
    group = {"src": 1, "dst": 2}
    return {"clusters": [
        {"name": "src", "generation": "master", "meta_servers": 2, "replica_servers": [0] * src_nodes,
         "zookeeper_hosts": zk or "127.0.0.1:2181", "duplication_group": group,
         "remote_clusters": {"dst": ""},
         "tables": [{"name": t, "partition_count": partitions, "replica_count": 3} for t in tables],
         "timing": timing},
        {"name": "dst", "generation": "master", "meta_servers": 2, "replica_servers": [0] * dst_nodes,
         "zookeeper_hosts": zk or "127.0.0.1:2181", "duplication_group": group, "timing": timing},
    ]}


def timing(p, shipping_rate=1000):
    dup = p["dup_ms"]
    return {"config_sync_interval_ms": p["sync_ms"], "duplication_sync_period_ms": dup,
            "perf_counter_interval_ms": dup, "checkpoint_copy_ms": p["checkpoint_ms"],
            "shipping_rate": shipping_rate, "group_check_interval_ms": 100000,
            "meta_persist_throttle_ms": min(5000, dup // 2)}


def table_names(n):
    width = max(3, len(str(n - 1)))
    return [f"t{i:0{width}d}" for i in range(n)]


# ---- the benchmark ---------------------------------------------------------------------------


class Bench:
    def __init__(self, build, work, params, smoke):
        self.build = os.path.abspath(build)
        self.work = work
        self.p = params
        self.smoke = smoke
        self.procs = Processes()
        self.zk = ZooKeeper(work)
        self.zk_hosts = None
        self.results = {}
        self.lines = []

    def bin(self, which):
        path = {"sim": "src/sim/pegasus-sim", "load": "src/load/pegasus-load",
                "tool": "src/cli/table-migrator"}[which]
        full = os.path.join(self.build, path)
        if not os.access(full, os.X_OK):
            raise BenchError(f"{full} is missing: build {self.build} first")
        return full

    def dump(self, name, what, data):
        with open(os.path.join(self.work, name, what + ".json"), "w") as f:
            json.dump(data, f, indent=1)

    def summary(self, line):
        print(line, flush=True)
        self.lines.append(line)

    # -- the migrator as a measured child process ---------------------------------------------

    def run_tool(self, d, args, timeout):
        """Runs table-migrator with --json; returns (exit code, wall s, rusage, events, t0, t1)."""
        out = os.path.join(d, "tool.jsonl")
        cmd = [self.bin("tool")] + args + ["--json", "--log-file", os.path.join(d, "tool.log"),
                                           "--state-file", os.path.join(d, "tool.state.json")]
        with open(os.path.join(d, "tool.cmd"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        t0 = time.time()
        p = self.procs.start(cmd, out, os.path.join(d, "tool.err"))
        rc, ru = self.procs.wait(p, timeout)
        t1 = time.time()
        self.last_peak_rss_kb = p.peak_rss_kb
        events = []
        with open(out) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    events.append(json.loads(line))
        return rc, t1 - t0, ru, events, t0, t1

    # -- cutover -------------------------------------------------------------------------------

    def cutover(self, fast):
        p = self.p["cutover"]
        sync_ms = p["fast_ms"] if fast else p["sync_ms"]
        name = f"cutover-{'fast' if fast else 'default'}"
        d = os.path.join(self.work, name)
        tables = table_names(p["tables"])
        sim = Sim(self, name, sim_config(self.zk_hosts, tables, p["partitions"], p["src_nodes"],
                                         p["dst_nodes"], timing(p)))
        sim.start()
        try:
            src, dst = sim.metas("src"), sim.metas("dst")
            self.stagger_phases(sim, p["src_nodes"], p["sync_ms"])
            root = f"/bench/{name}"
            entry = json.dumps({"cluster_name": "src", "meta_addrs": src}, separators=(",", ":"))
            self.zk.create([("/bench", b""), (root, b"")] +
                           [(f"{root}/{t}", entry.encode()) for t in tables])
            record = os.path.join(d, "load.record")
            load = self.procs.start(
                [self.bin("load"), "run", "--zk", self.zk_hosts, "--root", root, "--tables",
                 ",".join(tables), "--rate", str(p["rate"]), "--concurrency", "4", "--record",
                 record, "--stop-grace-ms", "3000", "--progress-ms", "0", "--log-level", "warn"],
                os.path.join(d, "load.out"), os.path.join(d, "load.log"))
            time.sleep(p["warmup_s"])
            if load.poll() is not None:
                raise BenchError(f"pegasus-load exited early; see {d}/load.log")
            log(f"{name}: migrating {len(tables)} tables ({p['partitions']} partitions, "
                f"{p['src_nodes']} nodes, config sync {p['sync_ms']} ms"
                f"{', fast cutover ' + str(p['fast_ms']) + ' ms' if fast else ''})")
            args = ["-s", src, "-t", ",".join(tables), "-c", "dst", "-m", dst, "-r", root, "-n",
                    self.zk_hosts, "--timeout", str(int(20 * p["sync_ms"] / 1000 + 120))]
            if fast:
                args.append(f"--fast-cutover={p['fast_ms']}")
            rc, wall, _ru, events, _t0, _t1 = self.run_tool(d, args, 30 * p["sync_ms"] / 1000 + 300)
            if rc != 0:
                raise BenchError(f"{name}: table-migrator exited {rc}; see {d}/tool.log")
            # Wait until reconfig*all is in force on every node that applied the deny, plus a
            # moment for the writers to re-resolve, before stopping them.
            deadline = time.monotonic() + 3 * p["sync_ms"] / 1000 + 30
            while True:
                truth = sim.admin("/truth?cluster=src")["src"]
                pending = [t for t in tables
                           if set(truth["tables"].get(t, {}).get("deny_effective", {})) -
                           set(truth["tables"].get(t, {}).get("reconfig_effective", {}))]
                if not pending:
                    break
                if time.monotonic() > deadline:
                    raise BenchError(f"{name}: reconfig*all never took effect for {pending[:5]}")
                time.sleep(0.5)
            time.sleep(3)
            load_rc, _ = self.procs.stop(load, 30)
            downtime = {}
            unrecovered = []
            with open(os.path.join(d, "load.out")) as f:
                for line in f:
                    m = re.match(r"load (\S+): .*write downtime (\d+) ms( \(not recovered\))?", line)
                    if m:
                        downtime[m.group(1)] = int(m.group(2))
                        if m.group(3):
                            unrecovered.append(m.group(1))
            if set(downtime) != set(tables):
                raise BenchError(f"{name}: pegasus-load (exit {load_rc}) reported "
                                 f"{len(downtime)} of {len(tables)} tables; see {d}/load.out")
            verify = subprocess.run(
                [self.bin("load"), "verify", "--zk", self.zk_hosts, "--root", root, "--record",
                 record, "--concurrency", "64", "--log-level", "warn"],
                capture_output=True, text=True, timeout=600)
            with open(os.path.join(d, "verify.out"), "w") as f:
                f.write(verify.stdout + verify.stderr)
            missing, acked, verified = 0, 0, set()
            for line in verify.stdout.splitlines():
                m = re.match(r"verify (\S+): acknowledged (\d+), found (\d+), missing (\d+)", line)
                if m:
                    verified.add(m.group(1))
                    acked += int(m.group(2))
                    missing += int(m.group(4))
                m = re.match(r"verify (\S+): (\d+) keys could not be read", line)
                if m:
                    missing += int(m.group(2))
            missing += len(set(tables) - verified)  # a table verify did not report counts as lost
            gaps = partition_gaps(record, p["partitions"])
            truth = sim.admin("/truth?cluster=src")["src"]
            self.dump(name, "truth", truth)
            self.dump(name, "requests", sim.admin("/requests"))
            return self.cutover_report(name, sync_ms, tables, truth,
                                       events, downtime, unrecovered, missing, acked, wall, verify, gaps)
        finally:
            sim.stop()

    def stagger_phases(self, sim, nodes, sync_ms):
        """Real replica nodes start at different times, so their config-sync ticks have unrelated
        phases (progress doc §6.1); the sim starts every node at once. Restarting node i at i/n
        of a period spreads the phases evenly (a restarted node gets a new phase; it is back long
        before the sim's failure detection would move its primaries)."""
        log(f"spreading the config-sync phases of {nodes} source nodes over {sync_ms} ms")
        start = time.monotonic()
        for i in range(1, nodes):
            time.sleep(max(0.0, start + i * sync_ms / 1000 / nodes - time.monotonic()))
            sim.admin(f"/fault/stop?cluster=src&role=replica&index={i}")
            sim.admin(f"/fault/restart?cluster=src&role=replica&index={i}")

    def cutover_report(self, name, sync_ms, tables, truth, events, downtime, unrecovered, missing,
                       acked, wall, verify, gaps):
        p = self.p["cutover"]
        switched_at = {e["table"]: e["ts_ms"] for e in events
                       if e.get("event") == "phase" and e.get("from") in ("switch", "switch_clients")}
        deny_acked_at = {e["table"]: e["ts_ms"] for e in events
                         if e.get("event") == "phase" and e.get("from") == "freeze"}
        deny_windows = {}
        for e in events:
            if e.get("event") == "report":
                for t in e.get("tables", []):
                    if "deny_window_ms" in t:
                        deny_windows[t["table"]] = t["deny_window_ms"]
        overhead, reaction, server_window, no_ack = {}, {}, [], []
        skipped = 0
        per_node = {}
        for t in tables:
            tt = truth["tables"].get(t, {})
            acked_ms = tt.get("last_mutation_acked_unix_ms")
            if acked_ms is None or t not in switched_at:
                no_ack.append(t)
            else:
                overhead[t] = switched_at[t] - acked_ms
                if t in deny_acked_at:
                    # The earliest instant a tool can know the drain is complete: every node has
                    # applied the deny only one period after the meta acknowledged it.
                    knowable = max(acked_ms, deny_acked_at[t] + sync_ms)
                    reaction[t] = switched_at[t] - knowable
                if overhead[t] < 0:
                    log(f"{name}: table {t}: switch done at {switched_at[t]} before its last "
                        f"mutation was acknowledged ({acked_ms}); deny acked at {deny_acked_at.get(t)}")
            deny, reconf = tt.get("deny_effective", {}), tt.get("reconfig_effective", {})
            # A node that applied reconfig*all without applying the deny first took writes on the
            # source until the switch: the tool switched before the freeze was in force there.
            skipped += sum(1 for node in reconf if node not in deny or deny[node] > reconf[node])
            for node, at in deny.items():
                if node in reconf:
                    w = reconf[node] - at
                    server_window.append(w)
                    per_node.setdefault(int(node), []).append(w)
        long_windows = sum(1 for w in server_window if w > 1.5 * sync_ms)
        # Client view per partition (the writer's per-table figure ends as soon as any partition of
        # the table accepts writes again, so it hides the partitions that wait longest).
        part_gap = [g for (t, _), g in gaps.items() if t in set(tables)]
        dt = list(downtime.values())
        res = {
            "sync_ms": sync_ms, "tables": len(tables), "tool_wall_s": round(wall, 1),
            "client_downtime_ms_p50": percentile(dt, 50), "client_downtime_ms_max": max(dt),
            "client_downtime_ms_min": min(dt),
            "overhead_ms_p50": percentile(list(overhead.values()), 50) if overhead else None,
            "overhead_ms_p99": percentile(list(overhead.values()), 99) if overhead else None,
            "overhead_ms_max": max(overhead.values()) if overhead else None,
            "reaction_ms_p50": percentile(list(reaction.values()), 50) if reaction else None,
            "reaction_ms_p99": percentile(list(reaction.values()), 99) if reaction else None,
            "server_window_ms_p50": percentile(server_window, 50) if server_window else None,
            "server_window_ms_max": max(server_window) if server_window else None,
            "server_windows": len(server_window), "server_windows_over_1_5_period": long_windows,
            "deny_window_ms_p50": percentile(list(deny_windows.values()), 50) if deny_windows else None,
            "deny_window_ms_max": max(deny_windows.values()) if deny_windows else None,
            "partition_gap_ms_p50": percentile(part_gap, 50) if part_gap else None,
            "partition_gap_ms_max": max(part_gap) if part_gap else None,
            "partition_gaps_over_1_5_period": sum(1 for g in part_gap if g > 1.5 * sync_ms),
            "partitions": len(part_gap),
            "missing": missing, "acknowledged": acked, "unrecovered": unrecovered,
            "tables_without_ack_truth": no_ack,
            "nodes_switched_before_frozen": skipped,
            "routing_violations": len(truth.get("routing_violations", [])),
            "verify_exit": verify.returncode,
            "per_node_window_ms_max": {str(n): max(v) for n, v in sorted(per_node.items())},
        }
        self.results[name] = res
        log(f"{name}: tool wall {res['tool_wall_s']} s; deny window p50/max {res['deny_window_ms_p50']}/"
            f"{res['deny_window_ms_max']} ms; server-side window (reconfig effective - deny effective, "
            f"per table and node) p50/max {res['server_window_ms_p50']}/{res['server_window_ms_max']} ms, "
            f"{long_windows} of {len(server_window)} over 1.5 periods; overhead p50/max "
            f"{res['overhead_ms_p50']}/{res['overhead_ms_max']} ms; reaction after the freeze is knowable "
            f"p50/p99 {res['reaction_ms_p50']}/{res['reaction_ms_p99']} ms; longest ack gap per partition "
            f"p50/max {res['partition_gap_ms_p50']}/{res['partition_gap_ms_max']} ms, "
            f"{res['partition_gaps_over_1_5_period']} of {res['partitions']} over 1.5 periods; "
            f"client downtime min "
            f"{res['client_downtime_ms_min']} ms; {acked} keys verified; routing violations "
            f"{res['routing_violations']}; not recovered {len(unrecovered)}; tables without a drain "
            f"instant {len(no_ack)}; (table, node) pairs switched before the deny was in force {skipped}")
        self.summary(f"bench cutover: sync_ms={sync_ms} tables={len(tables)} "
                     f"client_downtime_ms_p50={res['client_downtime_ms_p50']} "
                     f"client_downtime_ms_max={res['client_downtime_ms_max']} "
                     f"overhead_ms_p99={res['overhead_ms_p99']} missing={missing}")
        return res

    # -- scale ---------------------------------------------------------------------------------

    def scale(self):
        p = self.p["scale"]
        base = None
        runs = [(n, None) for n in p["counts"]]
        if p.get("extra_meta_rps"):
            runs.append((p["counts"][-1], p["extra_meta_rps"]))
        for n, rps in runs:
            name = f"scale-{n}" + (f"-rps{rps}" if rps else "")
            d = os.path.join(self.work, name)
            tables = table_names(n)
            sim = Sim(self, name, sim_config(self.zk_hosts, tables, p["partitions"], p["src_nodes"],
                                             p["dst_nodes"], timing(p, p["shipping_rate"])))
            sim.start()
            try:
                src, dst = sim.metas("src"), sim.metas("dst")
                # Identical data per table: the same write rate for the same time on each.
                pre = subprocess.run(
                    [self.bin("load"), "run", "--meta", src, "--tables", ",".join(tables), "--rate",
                     str(p["preload_rate"]), "--duration", str(p["preload_s"]), "--concurrency", "2",
                     "--progress-ms", "0", "--log-level", "warn"],
                    capture_output=True, text=True, timeout=300)
                if pre.returncode != 0:
                    raise BenchError(f"{name}: preload failed: {pre.stderr[-500:]}")
                acked = [int(m.group(1)) for m in re.finditer(r"acknowledged (\d+)", pre.stdout)]
                log(f"{name}: {n} tables x {p['partitions']} partitions, {sum(acked)} writes preloaded "
                    f"({min(acked)}..{max(acked)} per table); migrating")
                args = ["-s", src, "-t", ",".join(tables), "-c", "dst", "-m", dst,
                        "--timeout", str(int(20 * p["sync_ms"] / 1000 + 600))]
                if rps:
                    args += ["--meta-rps", str(rps)]
                rc, wall, ru, events, t0, t1 = self.run_tool(d, args, 30 * p["sync_ms"] / 1000 + 900)
                if rc != 0:
                    raise BenchError(f"{name}: table-migrator exited {rc}; see {d}/tool.log")
                done = sum(1 for e in events if e.get("event") == "table_done" and e.get("outcome") == "done")
                if done != n:
                    raise BenchError(f"{name}: {done} of {n} tables done; see {d}/tool.log")
                meta_max, peak = self.meta_rps_max(sim, int(t0), int(t1))
            finally:
                sim.stop()
            if base is None:
                base = wall
            phases = self.phase_totals(events)
            res = {"tables": n, "meta_rps_budget": rps or DEFAULT_META_RPS, "wall_s": round(wall, 1), "wall_ratio": round(wall / base, 2),
                   "extra_s": round(wall - base, 1), "rss_mb": round(self.last_peak_rss_kb / 1024, 1),
                   "ru_maxrss_mb": round(ru.ru_maxrss / 1024, 1),
                   "cpu_s": round(ru.ru_utime + ru.ru_stime, 2), "meta_rps_max": meta_max,
                   "meta_peak_second": peak, "phase_max_ms": phases}
            self.results[name] = res
            log(f"{name}: longest phase per table (ms): {phases}; busiest meta second: {peak}")
            if rps:
                log(f"{name} (not a summary line: --meta-rps {rps}): wall_s={res['wall_s']} "
                    f"wall_ratio={res['wall_ratio']} rss_mb={res['rss_mb']} cpu_s={res['cpu_s']} "
                    f"meta_rps_max={meta_max}")
                continue
            self.summary(f"bench scale: tables={n} wall_s={res['wall_s']} wall_ratio={res['wall_ratio']} "
                         f"rss_mb={res['rss_mb']} cpu_s={res['cpu_s']} meta_rps_max={meta_max}")

    @staticmethod
    def phase_totals(events):
        """Longest time any table spent in each phase (from the report)."""
        out = {}
        for e in events:
            if e.get("event") == "report":
                for t in e.get("tables", []):
                    for ph, ms in t.get("phases_ms", {}).items():
                        out[ph] = max(out.get(ph, 0), ms)
        return out

    @staticmethod
    def meta_rps_max(sim, s0, s1):
        """Highest requests in one unix second to any one source meta, within [s0, s1]."""
        reqs = sim.admin("/requests")
        best, peak = 0, {}
        for label, per_sec in reqs.items():
            if not label.startswith("src/meta"):
                continue
            for sec, rpcs in per_sec.items():
                if s0 <= int(sec) <= s1:
                    total = sum(rpcs.values())
                    if total > best:
                        best, peak = total, {"server": label, "second": int(sec) - s0, **rpcs}
        return best, peak

    # -- idle poll cost ------------------------------------------------------------------------

    def idle(self):
        p = self.p["idle"]
        name = "idle"
        d = os.path.join(self.work, name)
        sim = Sim(self, name, sim_config(self.zk_hosts, ["idle"], p["partitions"], p["src_nodes"],
                                         p["dst_nodes"], timing(p, p["shipping_rate"])))
        sim.start()
        try:
            src, dst = sim.metas("src"), sim.metas("dst")
            # Writes faster than the duplication ships them, and threshold 0: the table stays in
            # DS_LOG with a backlog the tool waits on, without ever freezing.
            load = self.procs.start(
                [self.bin("load"), "run", "--meta", src, "--tables", "idle", "--rate", str(p["rate"]),
                 "--concurrency", "4", "--progress-ms", "0", "--log-level", "warn"],
                os.path.join(d, "load.out"), os.path.join(d, "load.log"))
            out = os.path.join(d, "tool.jsonl")
            tool = self.procs.start(
                [self.bin("tool"), "-s", src, "-t", "idle", "-c", "dst", "-m", dst, "-p", "0", "--json",
                 "--log-file", os.path.join(d, "tool.log"), "--state-file",
                 os.path.join(d, "tool.state.json")], out, os.path.join(d, "tool.err"))
            deadline = time.monotonic() + 10 * p["dup_ms"] / 1000 + 120
            while True:
                with open(out) as f:
                    if any('"to":"wait_backlog"' in line.replace(" ", "") for line in f):
                        break
                if tool.poll() is not None or time.monotonic() > deadline:
                    raise BenchError(f"idle: the tool never reached wait_backlog; see {d}/tool.log")
                time.sleep(0.2)
            # Whole seconds only: skip the second in which wait_backlog started.
            s0 = int(time.time()) + 1
            time.sleep(p["window_s"] + (s0 - time.time()) + 1.2)
            s1 = s0 + p["window_s"] - 1
            if tool.poll() is not None:
                raise BenchError(f"idle: the tool exited during the window; see {d}/tool.log")
            reqs = sim.admin("/requests")
            with open(out) as f:
                phases = [json.loads(line) for line in f if '"event":"phase"' in line.replace(" ", "")]
            left = [e for e in phases if e.get("from") == "wait_backlog"]
            self.procs.stop(tool, 30)
            if left:
                raise BenchError(f"idle: the tool left wait_backlog ({left[0]}): the figure would "
                                 f"not be the waiting cost; see {d}/tool.jsonl")
            self.procs.stop(load, 30)
        finally:
            sim.stop()
        total, by_rpc = 0, {}
        for label, per_sec in reqs.items():
            for sec, rpcs in per_sec.items():
                if not s0 <= int(sec) <= s1:
                    continue
                for rpc, n in rpcs.items():
                    if rpc.startswith("RPC_RRDB_"):
                        continue  # the writer's data plane
                    total += n
                    key = f"{label.split('/')[1].rstrip('0123456789')} {rpc}"
                    by_rpc[key] = by_rpc.get(key, 0) + n
        rps = round(total / p["window_s"], 2)
        self.results["idle"] = {"requests_per_s": rps, "window_s": p["window_s"], "requests": by_rpc}
        log(f"idle: {total} requests in {p['window_s']} s: {by_rpc}")
        self.summary(f"bench idle: requests_per_s={rps}")

    # -- the whole run -------------------------------------------------------------------------

    def run(self, scenarios):
        self.zk_hosts = self.zk.start()
        log(f"ZooKeeper on {self.zk_hosts}; work directory {self.work}")
        try:
            if "cutover" in scenarios or "cutover-default" in scenarios:
                self.cutover(fast=False)
            if "cutover" in scenarios or "cutover-fast" in scenarios:
                self.cutover(fast=True)
            if "scale" in scenarios:
                self.scale()
            if "idle" in scenarios:
                self.idle()
        finally:
            self.procs.stop_all()
            self.zk.stop()
        with open(os.path.join(self.work, "results.json"), "w") as f:
            json.dump({"params": self.p, "results": self.results, "lines": self.lines}, f, indent=1)


# ---- docs/benchmarks.md ----------------------------------------------------------------------

BEGIN, END = "<!-- bench:begin (written by scripts/bench) -->", "<!-- bench:end -->"


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), {mem} RAM"


def build_type(build):
    try:
        with open(os.path.join(build, "meson-info", "intro-buildoptions.json")) as f:
            for o in json.load(f):
                if o["name"] == "buildtype":
                    return o["value"]
    except (OSError, ValueError, KeyError):
        pass
    return "?"


def git_head():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        return head or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def write_doc(path, bench, elapsed_s):
    p, r = bench.p, bench.results
    c = p["cutover"]
    s = p["scale"]
    i = p["idle"]
    out = [BEGIN, "",
           f"Run of {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} (commit {git_head()}, "
           f"{elapsed_s / 60:.1f} min): {machine()}; build `{build_type(bench.build)}`.", "",
           "```"] + bench.lines + ["```", ""]
    if "cutover-default" in r:
        out += ["### Cutover", "",
                f"pegasus-sim `master`, {c['tables']} tables x {c['partitions']} partitions, "
                f"{c['src_nodes']} source / {c['dst_nodes']} target replica nodes; config sync "
                f"{c['sync_ms']} ms, duplication sync {c['dup_ms']} ms, checkpoint copy "
                f"{c['checkpoint_ms']} ms, meta persist throttle {min(5000, c['dup_ms'] // 2)} ms; "
                f"pegasus-load {c['rate']} writes/s per table (4 in flight) through MetaProxy "
                f"entries, migration started after {c['warmup_s']} s of writes.", "",
                "| figure | default period | `--fast-cutover=" + str(c["fast_ms"]) + "` |",
                "| --- | --- | --- |"]
        rows = [("client downtime p50 / max (ms)", "client_downtime_ms_p50", "client_downtime_ms_max"),
                ("client downtime min (ms)", "client_downtime_ms_min", None),
                ("server-side window p50 / max (ms): reconfig effective − deny effective, per table and node",
                 "server_window_ms_p50", "server_window_ms_max"),
                ("windows over 1.5 periods / all", "server_windows_over_1_5_period", "server_windows"),
                ("longest ack gap per partition p50 / max (ms), from the writer's record",
                 "partition_gap_ms_p50", "partition_gap_ms_max"),
                ("partitions whose gap exceeds 1.5 periods / all", "partition_gaps_over_1_5_period",
                 "partitions"),
                ("overhead p50 / p99 (ms): switch done − last mutation acked", "overhead_ms_p50",
                 "overhead_ms_p99"),
                ("reaction p50 / p99 (ms): switch done − max(last mutation acked, deny acked + period)",
                 "reaction_ms_p50", "reaction_ms_p99"),
                ("tool's deny window p50 / max (ms)", "deny_window_ms_p50", "deny_window_ms_max"),
                ("tool wall time (s)", "tool_wall_s", None),
                ("keys verified on the target / missing", "acknowledged", "missing"),
                ("routing violations", "routing_violations", None),
                ("(table, node) pairs that applied reconfig*all before the deny", "nodes_switched_before_frozen",
                 None)]
        fd, ff = r.get("cutover-default", {}), r.get("cutover-fast", {})
        for label, a, b in rows:
            def cell(res):
                if not res:
                    return "-"
                return f"{res.get(a)}" + (f" / {res.get(b)}" if b else "")
            out.append(f"| {label} | {cell(fd)} | {cell(ff)} |")
        out.append("")
    if any(k.startswith("scale-") for k in r):
        out += ["### Scale", "",
                f"pegasus-sim `master`, N tables x {s['partitions']} partitions on {s['src_nodes']} "
                f"source / {s['dst_nodes']} target nodes; config sync {s['sync_ms']} ms, duplication "
                f"sync {s['dup_ms']} ms, checkpoint copy {s['checkpoint_ms']} ms, shipping "
                f"{s['shipping_rate']} mutations/s per partition; each table preloaded with "
                f"{s['preload_rate']} writes/s for {s['preload_s']} s; one run of the tool without `-r` "
                f"(each table ends frozen and drained), default `--meta-rps {DEFAULT_META_RPS}`.", "",
                "| tables | `--meta-rps` | wall s | wall ratio | extra s | peak RSS MB | CPU s | meta rps max | "
                "longest phase per table (ms) |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for key in sorted((k for k in r if k.startswith("scale-")), key=lambda k: (len(k), k)):
            x = r[key]
            ph = ", ".join(f"{k} {v}" for k, v in x["phase_max_ms"].items())
            out.append(f"| {x['tables']} | {x['meta_rps_budget']} | {x['wall_s']} | {x['wall_ratio']} | "
                       f"{x['extra_s']} | {x['rss_mb']} | {x['cpu_s']} | {x['meta_rps_max']} | {ph} |")
        out.append("")
    if "idle" in r:
        x = r["idle"]
        out += ["### Poll cost", "",
                f"One table of {i['partitions']} partitions in DS_LOG, `-p 0`, pegasus-load writing "
                f"{i['rate']}/s while the sim ships {i['shipping_rate']}/s per partition (the backlog "
                f"only grows, so the tool waits in `wait_backlog`); config sync {i['sync_ms']} ms, "
                f"duplication sync {i['dup_ms']} ms; requests from the tool counted by the sim over "
                f"{x['window_s']} s (data-plane RPCs of the writer excluded).", "",
                f"{x['requests_per_s']} requests/s: " +
                ", ".join(f"{k} {v}" for k, v in sorted(x["requests"].items())), ""]
    out.append(END)
    block = "\n".join(out)
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = ("# Benchmarks\n\nProduced by `scripts/dev bench`; the block below is rewritten by each "
                "run.\n\n" + block + "\n")
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", required=True, help="meson build directory with the three executables")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes and short timings (the test suite)")
    ap.add_argument("--scenarios", default="cutover,scale,idle", help="comma-separated subset")
    ap.add_argument("--doc", help="rewrite the figures block of this markdown file")
    ap.add_argument("--work", help="work directory (default: a fresh temporary one, removed on success)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    for s in scenarios:
        if s not in ("cutover", "cutover-default", "cutover-fast", "scale", "idle"):
            ap.error(f"unknown scenario {s!r}")
    work = args.work or tempfile.mkdtemp(prefix="table-migrator-bench.")
    os.makedirs(work, exist_ok=True)
    bench = Bench(args.build, work, SMOKE if args.smoke else FULL, args.smoke)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    try:
        bench.run(scenarios)
    except (BenchError, subprocess.SubprocessError, OSError, KeyboardInterrupt) as e:
        print(f"bench: FAILED: {e} (work directory kept: {work})", file=sys.stderr)
        return 1
    if args.doc:
        write_doc(args.doc, bench, time.monotonic() - started)
        log(f"figures written to {args.doc}")
    if args.keep or args.work:
        log(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
