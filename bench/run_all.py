"""`make bench`: run every benchmark module in this folder (bench/bench_*.py), one process each.

Each module is a script that prints its figures; a separate process keeps peak-RSS readings honest.
Run one alone with `uv run python bench/bench_<name>.py`.
"""

import subprocess
import sys
from pathlib import Path


def main() -> int:
    failed = []
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"\n=== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script), *sys.argv[1:]]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
