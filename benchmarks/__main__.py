"""``python -m benchmarks [NAME...]``: run ``main()`` of every ``benchmarks/bench_*.py``.

Names may be given with or without the ``bench_`` prefix; without names every benchmark
runs, in alphabetical order.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """Module names of every benchmark, sorted."""
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def run(names: list[str]) -> int:
    """Run the named benchmarks (all when empty); return a process exit code."""
    known = available()
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in names] or known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Available: {', '.join(known)}")
        return 2
    for name in wanted:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"== {name} done in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
