"""Bootstrap and run: the two quick-start commands need nothing but Python 3.11.

    python3 scripts/dev.py demo          # install into .venv if needed, run `salesflow demo`
    python3 scripts/dev.py test [ARGS]   # install into .venv if needed, run the test suite
    python3 scripts/dev.py salesflow ... # any salesflow command inside the venv

The venv is (re)installed when pyproject.toml changes, so a fresh clone needs no setup.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("SALESFLOW_VENV", ROOT / ".venv"))
STAMP = VENV / ".salesflow-installed"


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_installed() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and _bin("salesflow").exists():
        return
    if not _bin("python").exists():
        print(f"creating virtual environment in {VENV}", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    print("installing salesflow and its test tools (first run only)", file=sys.stderr)
    subprocess.run(
        [
            str(_bin("python")),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            f"{ROOT}[test]",
        ],
        check=True,
    )
    STAMP.write_text(wanted)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test", "salesflow"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_installed()
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "demo":
        argv = [str(_bin("salesflow")), "demo", *rest]
    elif command == "test":
        argv = [str(_bin("python")), "-m", "pytest", *rest]
    else:
        argv = [str(_bin("salesflow")), *rest]
    os.chdir(ROOT)
    return subprocess.run(argv).returncode


if __name__ == "__main__":
    sys.exit(main())
