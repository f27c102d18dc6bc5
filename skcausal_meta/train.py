"""Command line for meta-training an amortized model on an SCM family.

Example (a small AVICI run; ``docs/training.md`` has the exact commands of the shipped checkpoints)::

    python -m skcausal_meta.train --model avici --family id --steps 5000 --out runs/avici_id

writes ``OUT.safetensors`` + ``OUT.json`` (load with ``AviciEstimator(checkpoint="runs/avici_id")``)
and the resumable training state ``OUT.train.safetensors``; rerunning the same command resumes.
Every field of :class:`~skcausal_meta.models.training.TrainConfig` is an option (``--batch-size``,
``--n-nodes LOW HIGH``, ``--lr``, ``--optimizer lamb``, ...); ``--model-config`` takes the
network's keyword arguments as JSON. ``--exclude-graphs FILE [FILE ...]`` keeps the graphs in
these files (``.npy`` stacks or hash lists, any sizes) out of the training stream; the hash list
of a test set is written by::

    python -m skcausal_meta.train hash-test-graphs --family id --n-nodes 10 20 --seeds 0 1 \\
        --n-datasets 10 --out test_graphs.txt

``--family`` takes a registered family's name or the path of a YAML file defining one
(:meth:`~skcausal_meta.datasets.SCMFamily.from_yaml`), e.g. a sub-family of ``id``.
``--init-from CHECKPOINT`` (a shipped name or a path) fine-tunes that checkpoint's network instead
of training a fresh one: same weights and configuration, a new optimizer and schedule.
``--init-encoder-from CHECKPOINT`` builds a fresh network from ``--model-config`` and copies only
the encoder from a checkpoint of either model (the two share it), e.g. a BCNP that starts from
the encoder of the shipped AVICI network.
A trained checkpoint is copied with its weights stored in half precision (half the file, how the
larger shipped checkpoints are made) by::

    python -m skcausal_meta.train export --model avici --dtype float16 runs/avici_big OUT
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from importlib import import_module
from pathlib import Path

# registry name -> (module, class) of every model following the contract in models/training.py
MODELS = {
    "avici": ("skcausal_meta.models.avici.model", "AviciModel"),
    "bcnp": ("skcausal_meta.models.bcnp.model", "BCNP"),
}


def model_class(name: str):
    """The network class registered as ``name`` in :data:`MODELS`."""
    module, cls = MODELS[name]
    return getattr(import_module(module), cls)


def resolve_family(value: str):
    """The family named by ``--family``: a registered name, or a YAML file defining a family.

    Raises ``ValueError`` naming the value when it is neither.
    """
    from .datasets import SCMFamily, list_families

    if value in list_families():
        return value
    if value.endswith((".yml", ".yaml")) and Path(value).is_file():
        return SCMFamily.from_yaml(Path(value))
    raise ValueError(f"--family must be a registered family or a YAML file defining one, got {value!r}; "
                     f"registered: {list_families()}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; TrainConfig fields become options automatically."""
    from .models.training import TrainConfig

    parser = argparse.ArgumentParser(
        prog="python -m skcausal_meta.train", description=__doc__.split("\n")[0],
        epilog="'python -m skcausal_meta.train hash-test-graphs --help': write the graph hashes of a test "
               "set for --exclude-graphs; 'python -m skcausal_meta.train export --help': copy a checkpoint "
               "in half precision.")
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--family", required=True,
                        help="registered SCM family name (list_families()) or a YAML file defining a family")
    parser.add_argument("--out", required=True, help="checkpoint stem: writes OUT.safetensors, OUT.json, "
                                                     "OUT.train.safetensors")
    parser.add_argument("--model-config", default=None, type=json.loads,
                        help="JSON dict of network keyword arguments, e.g. '{\"dim\": 64}' (default: the "
                             "defaults, or when resuming, the configuration the training state was saved with)")
    parser.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                        help="start from this checkpoint's network (a shipped name or a path) instead of a "
                             "fresh one; excludes --model-config")
    parser.add_argument("--init-encoder-from", default=None, metavar="CHECKPOINT",
                        help="start a fresh network whose encoder is copied from this checkpoint of either "
                             "model (a shipped name or a path); --model-config must match its encoder sizes")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    parser.add_argument("--no-resume", dest="resume", action="store_false",
                        help="start from scratch even if OUT.train.safetensors exists")
    parser.add_argument("--log", default=None, help="append one JSON line per evaluation to this file")
    parser.add_argument("--exclude-graphs", default=None, nargs="+", metavar="FILE",
                        help="test graphs never to train on (up to isomorphism): .npy stacks (S, d, d) "
                             "and/or hash files written by 'hash-test-graphs', any sizes d")
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


def build_hash_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hash-test-graphs``."""
    parser = argparse.ArgumentParser(
        prog="python -m skcausal_meta.train hash-test-graphs",
        description="Write the canonical hashes of a test set's graphs, for --exclude-graphs.")
    parser.add_argument("--family", required=True,
                        help="registered SCM family of the test data sets, or a YAML file defining it")
    parser.add_argument("--n-nodes", required=True, nargs="+", type=int,
                        help="graph sizes d, each listed (not a range as in training)")
    parser.add_argument("--seeds", required=True, nargs="+", type=int, help="seeds of the test sets")
    parser.add_argument("--n-datasets", required=True, type=int, help="data sets per (d, seed)")
    parser.add_argument("--split", default="test", choices=["test", "val", "train", "none"],
                        help="DatasetSpec split (the benchmark runner's data sets), or 'none' for "
                             "make_scm_family(random_state=seed) (default: test)")
    parser.add_argument("--out", required=True, help="text file to write, one hash per line")
    return parser


def hash_test_graphs(argv) -> list[str]:
    """``hash-test-graphs``: write the hashes of a test-set definition; returns them."""
    from .models.training import held_out_graph_hashes, write_graph_hashes

    from .datasets import register_family

    args = build_hash_parser().parse_args(argv)
    split = None if args.split == "none" else args.split
    family = resolve_family(args.family)
    if split is not None and not isinstance(family, str):  # DatasetSpec names registered families
        family = register_family(family, overwrite=True).name
    hashes = held_out_graph_hashes(family, args.n_nodes, args.seeds, args.n_datasets, split=split)
    write_graph_hashes(args.out, hashes, header="python -m skcausal_meta.train hash-test-graphs " + " ".join(argv))
    return hashes


def build_export_parser() -> argparse.ArgumentParser:
    """The argument parser of ``export``."""
    parser = argparse.ArgumentParser(
        prog="python -m skcausal_meta.train export",
        description="Copy a checkpoint, storing its floating-point weights in another precision.")
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--dtype", default="float16", choices=["float16", "bfloat16", "float32"],
                        help="storage type of the floating tensors (default: float16)")
    parser.add_argument("source", help="checkpoint to copy (a shipped name or a path)")
    parser.add_argument("out", help="stem of the copy: writes OUT.safetensors and OUT.json")
    return parser


def export_checkpoint(argv):
    """``export``: write the copy and return its stem. Its JSON keeps the source's ``info`` and
    adds ``exported_from`` and ``stored_dtype``."""
    import torch

    from .models.checkpoint_io import checkpoint_stem, load_model, record_source, resolve_checkpoint, save_model

    args = build_export_parser().parse_args(argv)
    source = resolve_checkpoint(args.source, None)
    if checkpoint_stem(args.out).resolve() == source.resolve():
        raise ValueError(f"export would overwrite its source {str(source)!r}; give another OUT")
    model, meta = load_model(source, model_class(args.model))
    info = {**record_source(dict(meta["info"]), "exported_from", source), "stored_dtype": args.dtype}
    return save_model(args.out, model, info=info, dtype=getattr(torch, args.dtype))


def main(argv=None):
    """Parse ``argv`` and train (returning the evaluation history), or run ``hash-test-graphs``
    or ``export`` when it is the first argument (returning the hashes written, or the copy's
    stem)."""
    import torch

    from .datasets import canonical_graph_hash
    from .models.checkpoint_io import (
        load_encoder,
        load_model,
        read_training_state_configs,
        record_source,
        resolve_checkpoint,
        training_state_path,
    )
    from .models.training import TrainConfig, meta_train, read_graph_hashes

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["hash-test-graphs"]:
        return hash_test_graphs(argv[1:])
    if argv[:1] == ["export"]:
        return export_checkpoint(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.init_from is not None and args.model_config:
        parser.error("--model-config cannot be combined with --init-from: the network keeps the "
                     f"configuration of {args.init_from!r}")
    if args.init_from is not None and args.init_encoder_from is not None:
        parser.error("--init-from and --init-encoder-from exclude each other: the first copies the whole network")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    family = resolve_family(args.family)
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    info = {"command": "python -m skcausal_meta.train " + " ".join(argv), "family": args.family}
    if args.init_from is not None:
        stem = resolve_checkpoint(args.init_from, None)
        model, _ = load_model(stem, model_class(args.model))
        record_source(info, "warm_start_from", stem)
    else:
        torch.manual_seed(config.seed)  # weight initialisation; the CLI owns its process
        state = training_state_path(args.out)
        if args.model_config is None and args.resume and state.is_file():
            args.model_config = read_training_state_configs(state, model_class(args.model).model_name)[0]
        model = model_class(args.model)(**(args.model_config or {}))
        if args.init_encoder_from is not None:
            stem = resolve_checkpoint(args.init_encoder_from, None)
            load_encoder(model, stem)
            record_source(info, "encoder_from", stem)
    exclude = read_graph_hashes(args.exclude_graphs or ())
    return meta_train(model, family, config, out=args.out, resume=args.resume, device=args.device,
                      progress=not args.quiet, log_path=args.log, exclude_hashes=exclude,
                      graph_hash=canonical_graph_hash if exclude else None, info=info)


if __name__ == "__main__":
    main()
