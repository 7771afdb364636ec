"""Time the blocking checks add to a Dagster build of the sample digests.

    .venv/bin/python benchmarks/check_time.py [repeats]

Each measurement is a fresh process and a fresh warehouse, so the GX import (paid
once per process, on the first check) is counted. Prints the median wall time of a
first build and of a rebuild (nothing to parse), with and without the checks.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_ONE_BUILD = """
import sys, time
from pathlib import Path
import dagster as dg
import assets.build
from pipeline.config import Settings
from pipeline.staging import list_digest_files
if sys.argv[2] == "without":
    import assets.warehouse
    assets.build.ALL_CHECKS = []
    assets.warehouse.REQUIRED_CHECKS = ()  # no check approves the candidates: publish needs none
samples = Path(sys.argv[3])
settings = Settings(Path(sys.argv[1]), samples, None)
times = []
with dg.instance_for_test() as instance:
    for _ in range(2):  # first build, then a rebuild with nothing to parse
        start, cpu = time.perf_counter(), time.process_time()
        run = assets.build.materialize_warehouse(settings, instance, list_digest_files(samples))
        times += [time.perf_counter() - start, time.process_time() - cpu]
        assert run.result.success
print(*times)
"""


def measure(mode: str) -> list[float]:
    """Wall and CPU seconds of a first build and a rebuild."""
    with tempfile.TemporaryDirectory() as warehouse:
        completed = subprocess.run(
            [sys.executable, "-c", _ONE_BUILD, warehouse, mode, str(REPO / "warehouse" / "raw")],
            cwd=REPO, capture_output=True, text=True, check=True,
        )
    return [float(value) for value in completed.stdout.split()[-4:]]


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    results = {mode: [measure(mode) for _ in range(repeats)] for mode in ("without", "with")}
    medians = {mode: [statistics.median(run[i] for run in runs) for i in range(4)] for mode, runs in results.items()}
    for mode, (wall, cpu, rewall, recpu) in medians.items():
        print(f"{mode:>7} checks: first build {wall:5.1f} s ({cpu:4.1f} s CPU), rebuild {rewall:5.1f} s ({recpu:4.1f} s CPU)")
    added = [with_ - without for with_, without in zip(medians["with"], medians["without"])]
    print(f"checks add {added[0]:.1f} s ({added[1]:.1f} s CPU) to a first build, {added[2]:.1f} s ({added[3]:.1f} s CPU) to a rebuild")
    print(f"median of {repeats}; {os.cpu_count()} CPUs, load average {open('/proc/loadavg').read().split()[0]} at {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
