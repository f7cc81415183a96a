#!/usr/bin/env python3
"""Start-up time and idle memory of `plenary serve` on a fresh SQLite file.

Measures, over several runs, the time from spawning the process to its first 200 on /healthz
(migrations applied, reference data loaded, the current and next year planned, the organiser
account created), then the resident memory after it has idled for a few seconds.

Usage: bench/startup.py [path/to/plenary] [runs]
"""

import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def rss_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def one_run(binary: str) -> tuple[float, int, int]:
    directory = tempfile.mkdtemp(prefix="plenary-bench-")
    port = free_port()
    env = dict(os.environ, PLENARY_DATABASE_URL=f"sqlite://{directory}/plenary.db",
               PLENARY_ADDR=f"127.0.0.1:{port}", PLENARY_LOG="warn", PLENARY_ADMIN_PASSWORD="bench")
    started = time.perf_counter()
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        while not healthy(port):
            if process.poll() is not None:
                raise RuntimeError("plenary exited during start-up")
            if time.perf_counter() - started > 60:
                raise RuntimeError("plenary did not become healthy within 60 s")
            time.sleep(0.001)
        ready_ms = (time.perf_counter() - started) * 1000
        time.sleep(3)
        return ready_ms, rss_kib(process.pid, "VmRSS"), rss_kib(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/plenary"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    results = [one_run(binary) for _ in range(runs)]
    ready = [r[0] for r in results]
    rss = [r[1] / 1024 for r in results]
    hwm = [r[2] / 1024 for r in results]
    print(f"runs: {runs}")
    print(f"start to first 200 on /healthz: median {statistics.median(ready):.0f} ms, "
          f"min {min(ready):.0f} ms, max {max(ready):.0f} ms")
    print(f"idle resident memory (VmRSS): median {statistics.median(rss):.1f} MiB, max {max(rss):.1f} MiB")
    print(f"peak resident memory during start (VmHWM): median {statistics.median(hwm):.1f} MiB")


if __name__ == "__main__":
    main()
