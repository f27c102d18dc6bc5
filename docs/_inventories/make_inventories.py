"""Write the hand-made Sphinx inventories ``torch.inv`` and ``networkx.inv`` in this folder.

PyTorch and networkx have no Debian documentation package to take a real ``objects.inv`` from
(see ``README.md``), so these two list only the objects that the skcausal_meta documentation
refers to, each with its address on the official online documentation. Add a line to
``OBJECTS`` when the docs start to refer to another object of these projects (the nitpicky
docs build, ``bash scripts/build_docs.sh``, names any reference it cannot resolve), then run::

    python docs/_inventories/make_inventories.py

The output is Sphinx's inventory format version 2: four header lines, then zlib-compressed
lines ``name domain:role priority uri dispname`` (``-`` as dispname: the name itself). It is
deterministic: the same list gives the same bytes.
"""

from __future__ import annotations

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# project key (file name) -> (project name, version, [(object name, domain:role, uri relative
# to the online documentation root in docs/conf.py's intersphinx_mapping)])
OBJECTS: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    # https://docs.pytorch.org/docs/stable/
    "torch": (
        "PyTorch",
        "stable",
        [
            ("torch", "py:module", "torch.html#module-torch"),
            ("torch.Tensor", "py:class", "tensors.html#torch.Tensor"),
            ("torch.dtype", "py:class", "tensor_attributes.html#torch.dtype"),
            ("torch.device", "py:class", "tensor_attributes.html#torch.device"),
            ("torch.Generator", "py:class", "generated/torch.Generator.html#torch.Generator"),
            ("torch.nn.Module", "py:class", "generated/torch.nn.Module.html#torch.nn.Module"),
            ("torch.optim", "py:module", "optim.html#module-torch.optim"),
            ("torch.optim.Optimizer", "py:class", "optim.html#torch.optim.Optimizer"),
            (
                "torch.optim.Optimizer.state_dict",
                "py:method",
                "generated/torch.optim.Optimizer.state_dict.html#torch.optim.Optimizer.state_dict",
            ),
            (
                "torch.optim.Optimizer.load_state_dict",
                "py:method",
                "generated/torch.optim.Optimizer.load_state_dict.html"
                "#torch.optim.Optimizer.load_state_dict",
            ),
            ("torch.optim.AdamW", "py:class", "generated/torch.optim.AdamW.html#torch.optim.AdamW"),
        ],
    ),
    # https://networkx.org/documentation/stable/
    "networkx": (
        "NetworkX",
        "stable",
        [
            ("networkx.Graph", "py:class", "reference/classes/graph.html#networkx.Graph"),
            ("networkx.DiGraph", "py:class", "reference/classes/digraph.html#networkx.DiGraph"),
        ],
    ),
}


def inventory_bytes(project: str, version: str, objects: list[tuple[str, str, str]]) -> bytes:
    """The inventory (format version 2) of ``objects``, sorted by role and name."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = []
    for name, role, uri in sorted(objects, key=lambda item: (item[1], item[0])):
        if " " in name or " " in uri or ":" not in role:
            raise ValueError(f"not an inventory entry: {(name, role, uri)!r}")
        if uri.endswith("#" + name):  # Sphinx's shorthand: "$" at the end stands for the name
            uri = uri[: -len(name)] + "$"
        lines.append(f"{name} {role} 1 {uri} -\n")
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def main() -> None:
    for key, (project, version, objects) in OBJECTS.items():
        path = HERE / f"{key}.inv"
        path.write_bytes(inventory_bytes(project, version, objects))
        print(f"{path.name}: {len(objects)} objects")


if __name__ == "__main__":
    main()
