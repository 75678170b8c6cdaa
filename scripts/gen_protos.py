"""Regenerate the Python gRPC code from protos/ (the one command for it).

    python scripts/gen_protos.py            # rewrite salesflow/<area>/v1/*_pb2*.py
    python scripts/gen_protos.py --check    # exit 1 when the checked-in code is stale

The generated modules live beside our own code under the `salesflow` package because the
proto packages are `salesflow.<area>.v1`, so their imports resolve without path tricks.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.resources
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: Path) -> None:
    """Runs protoc (from grpcio-tools) over every proto into out_dir."""
    from grpc_tools import protoc

    well_known = importlib.resources.files("grpc_tools") / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(path.relative_to(PROTO_ROOT)) for path in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")

    # Every generated folder must be a package; the salesflow root already is one.
    for path in proto_files():
        package_dir = out_dir / path.parent.relative_to(PROTO_ROOT)
        while package_dir != out_dir / "salesflow":
            (package_dir / "__init__.py").touch()
            package_dir = package_dir.parent


def generated_files(base: Path) -> set[Path]:
    found = set()
    for pattern in ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py"):
        found |= {path.relative_to(base) for path in (base / "salesflow").rglob(pattern)}
    return found


def check() -> int:
    """Regenerates into a scratch folder and compares with the checked-in files."""
    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        (scratch_dir / "salesflow").mkdir()
        generate(scratch_dir)

        expected = generated_files(scratch_dir)
        actual = generated_files(ROOT)
        stale = sorted(str(p) for p in expected ^ actual)
        stale += sorted(
            str(p)
            for p in expected & actual
            if not filecmp.cmp(scratch_dir / p, ROOT / p, shallow=False)
        )
    if stale:
        print("generated gRPC code is stale; run: python scripts/gen_protos.py")
        for path in stale:
            print(f"  {path}")
        return 1
    print("generated gRPC code is up to date")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the code is stale")
    options = parser.parse_args()
    if options.check:
        return check()
    generate(ROOT)
    print(f"generated code for {len(proto_files())} proto files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
