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
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples/README.rst", "**.ipynb_checkpoints"]
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
numpydoc_xref_param_type = False

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
