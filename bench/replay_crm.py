"""Benchmark: replay a CRM export end to end and print throughput figures.

    .venv/bin/python bench/replay_crm.py [EXPORT_DIR] [--limit N] [--postgres URL]

Runs `salesflow replay --json` in a subprocess (the way a user runs it) and prints wall
time, rows per second, events per second, and where the time went (moving the simulated
clock, performing steps, draining consumers). Run on demand; not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXPORT = ROOT.parent / "shared" / "data" / "crm"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", nargs="?", type=Path, default=DEFAULT_EXPORT)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--postgres", help="replay into this PostgreSQL URL instead of SQLite")
    options = parser.parse_args()

    command = [
        str(Path(sys.executable).parent / "salesflow"),
        "replay",
        str(options.export),
        "--json",
    ]
    if options.limit:
        command += ["--limit", str(options.limit)]
    environment = dict(os.environ)
    if options.postgres:
        environment["SALESFLOW_DATABASE_URL"] = options.postgres

    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return result.returncode
    summary = json.loads(result.stdout)

    events = summary["actions_completed"] + summary["escalations"] + summary["reminders"]
    print(f"export            {options.export} (limit {options.limit or 'none'})")
    print(f"database          {'PostgreSQL' if options.postgres else 'SQLite'}")
    print(f"rows              {summary['opportunities_read']}")
    print(f"wall time         {wall:.1f} s (replay {summary['elapsed_seconds']} s)")
    print(f"rows per second   {summary['opportunities_read'] / wall:.1f}")
    print(f"pipeline facts/s  {events / wall:.1f} (completions, escalations, reminders)")
    print(f"simulated moments {summary['slots']}")
    print(f"  moving clock    {summary['clock_seconds']} s")
    print(f"  performing      {summary['steps_seconds']} s")
    print(f"  draining        {summary['drain_seconds']} s")
    print(json.dumps({k: v for k, v in summary.items() if k != "rejected_rows"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
