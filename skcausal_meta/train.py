"""Meta-train an amortized network: ``python -m skcausal_meta.train --model avici --family id --out OUT``.

Writes ``OUT.safetensors`` + ``OUT.json`` (load with ``AviciEstimator(checkpoint="OUT")``) and the
resumable ``OUT.train.safetensors``; rerunning the same command resumes. Every
:class:`~skcausal_meta.models.amortized.config.TrainConfig` field is an option. ``export SOURCE
OUT --model M [--dtype float16]`` copies a checkpoint with its weights in half precision. The guide
is ``docs/training.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys


def _parser():
    from .models.amortized.config import TrainConfig
    from .models.amortized.training import NETWORKS

    parser = argparse.ArgumentParser(prog="python -m skcausal_meta.train", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(NETWORKS))
    parser.add_argument("--family", required=True, help="registered family name or a YAML file defining one")
    parser.add_argument("--out", required=True, help="checkpoint stem")
    parser.add_argument("--model-config", type=json.loads, help="JSON dict of network keyword arguments")
    parser.add_argument("--init-from", help="start from this checkpoint's network (fine-tuning)")
    parser.add_argument("--init-encoder-from", help="a fresh network with this checkpoint's encoder")
    parser.add_argument("--add-statistics", nargs="+", default=(), metavar="GROUP",
                        help="statistics groups the --init-from network also reads (zero-initialised weights)")
    parser.add_argument("--encoder-rows", type=int, metavar="K",
                        help="the encoder attends over at most K rows per data set; the statistics read all")
    parser.add_argument("--exclude-graphs", nargs="+", default=(), metavar="FILE", help=".npy graphs or hash files")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (CPU)")
    parser.add_argument("--no-resume", dest="resume", action="store_false")
    parser.add_argument("--log", help="JSON-lines log of the evaluations")
    parser.add_argument("--quiet", action="store_true")
    for f in dataclasses.fields(TrainConfig):
        default, flag = getattr(TrainConfig(), f.name), "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, default=default, action=argparse.BooleanOptionalAction)
        else:
            many = {"nargs": len(default), "type": type(default[0])} if isinstance(default, list) else {"type": type(default)}
            if f.name == "n_samples":
                many = {"nargs": "+", "type": int, "metavar": "N"}  # one count or LOW HIGH
            parser.add_argument(flag, default=default, **many)
    return parser


def main(argv=None):
    """Train (returning the evaluation history), or ``export`` (returning the copy's stem)."""
    import torch

    from .models.amortized.config import TrainConfig
    from .models.amortized.training import export_checkpoint, train

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["export"]:
        export = argparse.ArgumentParser(prog="python -m skcausal_meta.train export")
        for flag, options in [("source", {}), ("out", {}), ("--model", {"required": True}), ("--dtype", {"default": "float16"})]:
            export.add_argument(flag, **options)
        a = export.parse_args(argv[1:])
        return export_checkpoint(a.model, a.source, a.out, a.dtype)
    args = _parser().parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    return train(args.model, args.family, config, args.out, model_config=args.model_config,
                 init_from=args.init_from, init_encoder_from=args.init_encoder_from,
                 add_statistics=args.add_statistics, encoder_rows=args.encoder_rows,
                 exclude_graphs=args.exclude_graphs, resume=args.resume, device=args.device,
                 progress=not args.quiet, log_path=args.log, command="python -m skcausal_meta.train " + " ".join(argv))[1]


if __name__ == "__main__":
    main()
