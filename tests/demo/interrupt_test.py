#!/usr/bin/env python3
# scripts/demo interrupted like a terminal Ctrl-C (SIGINT to its whole process group) while
# table-migrator waits for DS_LOG: the demo must exit 130, say so, and leave no process it started
# (ZooKeeper, pegasus-sim, the pegasus-load writers, table-migrator). No timing is asserted.
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

root, build = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="tm-demo-interrupt-")
env = dict(os.environ, BUILD=build, DEMO_DIR=work)


def leftovers():
    # /proc directly: procps (ps) need not be installed.
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if work in args and "interrupt_test.py" not in args and int(pid) != os.getpid():
            found.append(f"{pid} {args}")
    return found


def fail(msg, out=""):
    print(out)
    print(f"FAIL: {msg} (work dir {work})")
    for l in leftovers():
        pid = int(l.split()[0])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    sys.exit(1)


demo = subprocess.Popen([os.path.join(root, "scripts", "demo"), "--generation", "master"], env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
out = []
deadline = time.time() + 120
for line in demo.stdout:
    out.append(line)
    if "duplicate -> wait_log" in line:
        break
    if time.time() > deadline:
        break
else:
    fail("the demo ended before table-migrator started", "".join(out))
if time.time() > deadline:
    fail("table-migrator did not reach wait_log within 120 s", "".join(out))

os.killpg(demo.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
try:
    rest, _ = demo.communicate(timeout=120)
except subprocess.TimeoutExpired:
    fail("the demo did not stop within 120 s of SIGINT", "".join(out))
text = "".join(out) + rest
if demo.returncode != 130:
    fail(f"exit status {demo.returncode}, expected 130", text)
for needed in ("table-migrator exited with 130", "demo: interrupted"):
    if needed not in text:
        fail(f"the output lacks '{needed}'", text)
time.sleep(0.5)
left = leftovers()
if left:
    fail("processes left running: " + "; ".join(left), text)
print(text)
print("OK: exit 130, nothing left running")
shutil.rmtree(work, ignore_errors=True)
