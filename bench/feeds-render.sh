#!/usr/bin/env bash
# Rendering a delegation feed of 250 meetings (VTIMEZONEs included): Plenary's Rust renderer
# (criterion, scheduler/benches/render_feed.rs) against Python's icalendar building and
# serialising the same calendar (bench/render_feed.py), in one run, side by side.
#
# Usage: bench/feeds-render.sh   (installs the Python packages into target/python-venv if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/services.sh
ensure_python_packages

echo "==> Rust: cargo bench -p scheduler --bench render_feed"
rust_out=$(cargo bench -p scheduler --bench render_feed --locked -- --noplot 2>&1 | tee /dev/stderr)
echo "==> Python: bench/render_feed.py"
python_out=$("$PLENARY_TEST_PYTHON" bench/render_feed.py | tee /dev/stderr)

"$PLENARY_TEST_PYTHON" - "$rust_out" "$python_out" <<'PY'
import re, sys
rust, python = sys.argv[1], sys.argv[2]
units = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", rust)
rust_ms = float(m.group(1)) * units[m.group(2)]
m = re.search(r"build \+ render: mean ([\d.]+) ms", python)
python_ms = float(m.group(1))
m = re.search(r"render only: mean ([\d.]+) ms", python)
python_render_ms = float(m.group(1))
print()
print("| renderer (250 meetings, delegation feed) | time per feed | vs Rust |")
print("| --- | ---: | ---: |")
print(f"| Rust `scheduler::ical::render_feed` (criterion median) | {rust_ms * 1e3:.0f} µs | 1× |")
print(f"| Python icalendar, build + render (mean) | {python_ms:.1f} ms | {python_ms / rust_ms:.0f}× slower |")
print(f"| Python icalendar, render only (mean) | {python_render_ms:.1f} ms | {python_render_ms / rust_ms:.0f}× slower |")
goal = "met" if python_ms / rust_ms >= 50 else "MISSED"
print(f"\nGoal ≥50× faster than Python (build + render): {goal} ({python_ms / rust_ms:.0f}×)")
PY
