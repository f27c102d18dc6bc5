"""Command line for meta-training an amortized model on an SCM family.

Example (the shipped AVICI checkpoint; see ``docs/training.md`` for the exact command)::

    python -m skcausal_meta.train --model avici --family id --steps 5000 --out runs/avici_id

writes ``OUT.safetensors`` + ``OUT.json`` (load with ``AviciEstimator(checkpoint="runs/avici_id")``)
and the resumable training state ``OUT.train.safetensors``; rerunning the same command resumes.
Every field of :class:`~skcausal_meta.models.training.TrainConfig` is an option (``--batch-size``,
``--n-nodes LOW HIGH``, ``--lr``, ...); ``--model-config`` takes the network's keyword arguments
as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from importlib import import_module

# registry name -> (module, class) of every model following the contract in models/training.py
MODELS = {
    "avici": ("skcausal_meta.models.avici.model", "AviciModel"),
    "bcnp": ("skcausal_meta.models.bcnp.model", "BCNP"),
}


def _model_class(name: str):
    module, cls = MODELS[name]
    return getattr(import_module(module), cls)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; TrainConfig fields become options automatically."""
    from .models.training import TrainConfig

    parser = argparse.ArgumentParser(prog="python -m skcausal_meta.train", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--family", required=True, help="registered SCM family name (list_families())")
    parser.add_argument("--out", required=True, help="checkpoint stem: writes OUT.safetensors, OUT.json, "
                                                     "OUT.train.safetensors")
    parser.add_argument("--model-config", default="{}", type=json.loads,
                        help="JSON dict of network keyword arguments, e.g. '{\"dim\": 64}'")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--no-resume", dest="resume", action="store_false",
                        help="start from scratch even if OUT.train.safetensors exists")
    parser.add_argument("--log", default=None, help="append one JSON line per evaluation to this file")
    parser.add_argument("--exclude-graphs", default=None,
                        help=".npy stack (S, d, d) of test graphs never to train on (canonical hash)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        default = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, default=default, action=argparse.BooleanOptionalAction)
        elif isinstance(default, list):
            parser.add_argument(flag, default=default, nargs=len(default), type=type(default[0]))
        else:
            parser.add_argument(flag, default=default, type=type(default))
    return parser


def main(argv=None) -> list[dict]:
    """Parse ``argv``, train, and return the evaluation history."""
    import numpy as np
    import torch

    from .datasets import canonical_graph_hash
    from .models.training import TrainConfig, meta_train

    args = build_parser().parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    torch.manual_seed(config.seed)  # weight initialisation; the CLI owns its process
    model = _model_class(args.model)(**args.model_config)
    exclude = ()
    if args.exclude_graphs is not None:
        exclude = {canonical_graph_hash(g) for g in np.load(args.exclude_graphs, allow_pickle=False)}
    command = "python -m skcausal_meta.train " + " ".join(sys.argv[1:] if argv is None else argv)
    return meta_train(model, args.family, config, out=args.out, resume=args.resume, device=args.device,
                      progress=not args.quiet, log_path=args.log, exclude_hashes=exclude,
                      graph_hash=canonical_graph_hash if exclude else None,
                      info={"command": command, "family": args.family})


if __name__ == "__main__":
    main()
