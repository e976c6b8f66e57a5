#!/usr/bin/env python3
# Runs the benchmark driver at its smoke size and checks that every scenario printed its summary
# line in the documented form with missing=0, and that no source node applied reconfig*all before
# the deny (ground truth). No timing is asserted.
import re
import subprocess
import sys

bench, build = sys.argv[1], sys.argv[2]
NUM = r"-?[0-9.]+"
EXPECTED = [
    ("cutover default period", rf"^bench cutover: sync_ms=1500 tables=2 client_downtime_ms_p50={NUM} "
                               rf"client_downtime_ms_max={NUM} overhead_ms_p99={NUM} missing=0$"),
    ("cutover fast", rf"^bench cutover: sync_ms=300 tables=2 client_downtime_ms_p50={NUM} "
                     rf"client_downtime_ms_max={NUM} overhead_ms_p99={NUM} missing=0$"),
    ("scale 1 table", rf"^bench scale: tables=1 wall_s={NUM} wall_ratio={NUM} rss_mb={NUM} "
                      rf"cpu_s={NUM} meta_rps_max={NUM}$"),
    ("scale 2 tables", rf"^bench scale: tables=2 wall_s={NUM} wall_ratio={NUM} rss_mb={NUM} "
                       rf"cpu_s={NUM} meta_rps_max={NUM}$"),
    ("idle", rf"^bench idle: requests_per_s={NUM}$"),
]

try:
    run = subprocess.run([sys.executable, bench, "--build", build, "--smoke"], capture_output=True,
                         text=True, timeout=200)
except subprocess.TimeoutExpired as e:
    print(f"FAIL: bench.py --smoke still running after {e.timeout}s")
    sys.exit(1)
print(run.stdout)
print(run.stderr, file=sys.stderr)
failures = []
if run.returncode != 0:
    failures.append(f"bench.py --smoke exited {run.returncode}")
lines = run.stdout.splitlines()
for what, pattern in EXPECTED:
    if not any(re.match(pattern, line) for line in lines):
        failures.append(f"no summary line for {what} matching {pattern!r}")
# Ground truth, not timing: no node may apply reconfig*all before the deny (the tool switched a
# table while a source node still accepted writes).
for m in re.finditer(r"(cutover-\w+): .*switched before the deny was in force (\d+)", run.stderr):
    if m.group(2) != "0":
        failures.append(f"{m.group(1)}: {m.group(2)} (table, node) pairs applied reconfig*all before the deny")
if len(re.findall(r"switched before the deny was in force", run.stderr)) != 2:
    failures.append("the cutover detail lines are missing from stderr")
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
