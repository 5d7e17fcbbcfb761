"""`python -m bench [--quick]` (what `make bench` runs): every benchmark in turn, each printing its
figures; the full run takes about 10 minutes on 2 cores plus a few for `recognition` and `export`,
`--quick` seconds (the CI smoke test)."""

from __future__ import annotations

import argparse
import importlib
import time

MODULES = ("append", "rebuild", "api", "people", "extraction", "capture", "recognition", "export")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("only", nargs="*", metavar="NAME", help=f"run only these of {', '.join(MODULES)}")
    args = parser.parse_args()
    unknown = sorted(set(args.only) - set(MODULES))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in args.only or MODULES:
        began = time.monotonic()
        print(f"## bench.{name}", flush=True)
        importlib.import_module(f"bench.{name}").main(["--quick"] if args.quick else [])
        print(f"(bench.{name}: {time.monotonic() - began:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
