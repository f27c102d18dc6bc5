"""Command line: rebuild ``results.csv``, ``report.md`` and the plots of a run from its artifacts.

    python -m skcausal_meta.report RUN_DIR [--no-plots]
"""

from __future__ import annotations

import argparse
import sys

from .pipeline import write_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skcausal_meta.report", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="folder written by python -m skcausal_meta.run")
    parser.add_argument("--no-plots", action="store_true", help="only results.csv and report.md")
    args = parser.parse_args(argv)
    try:
        paths = write_report(args.run_dir, plots=not args.no_plots)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote {paths['results']}, {paths['report']} and {len(paths['plots'])} plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
