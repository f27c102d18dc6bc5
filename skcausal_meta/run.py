"""Command line: run (or resume) a benchmark from a YAML config.

    python -m skcausal_meta.run --config benchmarks/quick.yml [--output-dir DIR] [--n-jobs N] [--wait]

An invalid config exits with status 2 and the validation message, before any work; a run folder
that another live runner holds exits with status 3 naming it (``--wait`` waits for it instead).
"""

from __future__ import annotations

import argparse
import sys

from .pipeline import ConfigError, RunLockedError, load_config, run_benchmark


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skcausal_meta.run", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="benchmark YAML file")
    parser.add_argument("--output-dir", default=None, help="run folder (default: the config's output_dir)")
    parser.add_argument("--n-jobs", type=int, default=None, help="override runtime.n_jobs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--wait", action="store_true",
                        help="if another runner is working in the run folder, wait for it instead of exiting")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.n_jobs is not None:
            dumped = config.model_dump(mode="json")
            config = load_config({**dumped, "runtime": {**dumped["runtime"], "n_jobs": args.n_jobs}})
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        summary = run_benchmark(config, output_dir=args.output_dir, progress=not args.no_progress, wait=args.wait)
    except RunLockedError as exc:
        print(exc, file=sys.stderr)
        return 3
    print(f"{summary.n_tasks} tasks: {summary.n_skipped} already finished, {summary.n_run} run, "
          f"{summary.n_failed} failed; report: {summary.report['report']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
