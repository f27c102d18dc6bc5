"""Sphinx configuration of the skcausal_meta documentation.

Build with ``bash scripts/build_docs.sh`` (``sphinx-build -W``: every warning is an error).
The API reference is generated from the numpydoc docstrings (autosummary), the example gallery
runs the scripts in ``docs/examples/`` (sphinx-gallery) and ``training.md`` is Markdown (MyST).
"""

import os

import skcausal_meta

project = "skcausal_meta"
author = "skcausal_meta developers"
copyright = "2026, skcausal_meta developers"
release = skcausal_meta.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_inventories", "examples/README.rst", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
root_doc = "index"

# API reference: one generated page per public object, members documented by numpydoc.
autosummary_generate = True
autosummary_imported_members = False
# Estimator pages show the inherited fit/predict_graph_posterior/score of BaseCausalEstimator but
# not what scikit-learn's BaseEstimator, pydantic's BaseModel, torch's Optimizer or builtins
# define. set_fit_request & co. come from scikit-learn's metadata routing and link to its
# glossary, absent here.
autodoc_default_options = {
    "members": True,
    "inherited-members": "BaseEstimator,_MetadataRequester,BaseModel,Optimizer,Exception,object",
    "exclude-members": "set_fit_request,set_score_request,set_predict_request,set_output",
}
autodoc_typehints = "none"  # the numpydoc "Parameters" sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks = set()  # docstring style is checked in review, not by the build
# Parameter and return types link to their documentation (numpydoc's cross-referencing); every
# word of a type that is not an alias below, an ignored word or a role must resolve, since the
# build is nitpicky (``-n``).
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    # short names used in the types, with the object they stand for
    "DataFrame": "pandas.DataFrame",
    "Generator": "numpy.random.Generator",
    "dtype": "numpy.dtype",
    "int8": "numpy.int8",
    "int64": "numpy.int64",
    "float32": "numpy.float32",
    "float64": "numpy.float64",
    "ints": "int",
    "floats": "float",
    "dicts": "dict",
    "tensor": "torch.Tensor",
    "tensors": "torch.Tensor",
    "path": ":term:`python:path-like object`",
    "collection": "collections.abc.Collection",
    "regressor": ":term:`sklearn:regressor`",
    # our own classes, by their documented (public) path
    "BaseCausalEstimator": "skcausal_meta.models.base.BaseCausalEstimator",
    "GraphPosterior": "skcausal_meta.models.posterior.GraphPosterior",
    "GraphEstimate": "skcausal_meta.models.estimates.GraphEstimate",
    "SCMFamily": "skcausal_meta.datasets.SCMFamily",
    "SCMInstance": "skcausal_meta.datasets.SCMInstance",
    "NodeModel": "skcausal_meta.datasets.node_model.NodeModel",
    "Interventions": "skcausal_meta.datasets.Interventions",
    "InterventionSpec": "skcausal_meta.datasets.InterventionSpec",
    "TrainConfig": "skcausal_meta.models.amortized.TrainConfig",
    "Config": "skcausal_meta.pipeline.Config",
    "ConfigError": "skcausal_meta.pipeline.ConfigError",
    "RunSummary": "skcausal_meta.pipeline.RunSummary",
    "RunLockedError": "skcausal_meta.pipeline.RunLockedError",
}
# Words of the type descriptions that are not objects: the grammar of numpydoc types ("array-like
# of shape (n, d) or None, optional") and the names of array dimensions in shapes.
numpydoc_xref_ignore = {
    # type grammar and prose
    "of", "or", "shape", "optional", "default", "only", "with", "for", "in", "to", "input",
    "broadcastable", "hard", "graphs", "two", "spec", "specs", "YAML", "max", "low", "high",
    "self",
    # dimension names in shapes: d nodes, n rows, S/N graph samples, B batch, K, C, k, m, ...
    "d", "n", "S", "N", "B", "K", "C", "k", "m",
    "n_graphs", "n_particles", "n_extensions", "n_dags",
}

# Links to the documentation of the libraries we build on. The inventories are vendored in
# docs/_inventories (see its README.md: where each came from), so that the build needs no network;
# the links point to the online documentation.
_inventory = "_inventories/{}.inv".format
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", _inventory("python")),
    "numpy": ("https://numpy.org/doc/stable", _inventory("numpy")),
    "scipy": ("https://docs.scipy.org/doc/scipy", _inventory("scipy")),
    "sklearn": ("https://scikit-learn.org/stable", _inventory("sklearn")),
    "pandas": ("https://pandas.pydata.org/docs", _inventory("pandas")),
    "matplotlib": ("https://matplotlib.org/stable", _inventory("matplotlib")),
    "joblib": ("https://joblib.readthedocs.io/en/stable", _inventory("joblib")),
    "networkx": ("https://networkx.org/documentation/stable", _inventory("networkx")),
    "torch": ("https://docs.pytorch.org/docs/stable", _inventory("torch")),
}

# Example gallery: every docs/examples/plot_*.py runs at build time (tiny data, one thread).
os.environ.setdefault("OMP_NUM_THREADS", "1")
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "min_reported_time": 1,
    "write_computation_times": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"skcausal_meta {release}"
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
