"""Sphinx configuration for the hclust documentation.

Build: ``.venv/bin/pip install -e ".[docs]" && .venv/bin/sphinx-build -W -b html docs docs/_build/html``.

The build works offline: no intersphinx inventories are fetched, the theme's
fonts and icons are its own bundled files, and math is rendered by a MathJax
copy served from ``_static`` (from the ``sphinx-mathjax-offline`` package), so
the pages make no request to another host.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import hclust  # noqa: E402

# The gallery draws with matplotlib off screen; one backend for every example.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "hclust"
author = "the hclust developers"
copyright = "2026, the hclust developers"
version = release = hclust.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "hclust_docs",  # docs/_ext: the benchmarks page, the report copied into the site
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "gallery", "benchmarks/generated", "benchmarks/results", "tools"]
templates_path = ["_templates"]
root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
default_role = "code"
pygments_style = "sphinx"

# -- API reference ---------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc sections give the types; signatures stay readable
autodoc_default_options = {"members": False}
autoclass_content = "class"
numpydoc_show_class_members = False  # the class template lists the methods itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

extlinks = {
    "doi": ("https://doi.org/%s", "doi:%s"),
    "arxiv": ("https://arxiv.org/abs/%s", "arXiv:%s"),
}

# -- Offline pages ---------------------------------------------------------
# No intersphinx: a build must not depend on fetching other projects' inventories.
# MathJax from a local copy (the default points at a CDN).
mathjax_path = "mathjax/tex-svg.js"


def _mathjax_file() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("sphinx-mathjax-offline")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "tex-svg.js"
    return path if path.is_file() else None


_MATHJAX = _mathjax_file()
if _MATHJAX is None:
    raise RuntimeError(
        "the docs need the MathJax copy of sphinx-mathjax-offline: pip install -e '.[docs]'"
    )

# -- HTML ------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"hclust {release}"
html_static_path = ["_static"]
html_css_files = ["hclust.css"]
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "icon_links": [],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    "use_edit_page_button": False,
    "analytics": {},
}
html_sidebars = {"index": [], "benchmarks/index": []}

# -- Gallery ---------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    # HCLUST_DOCS_EXAMPLES=plot_01 runs only the matching examples (the others are shown unexecuted).
    "filename_pattern": os.environ.get("HCLUST_DOCS_EXAMPLES", r"/plot_"),
    "ignore_pattern": r"(__init__|_helpers)\.py",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("hclust",),
    "reference_url": {"hclust": None},
    "backreferences_dir": None,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "show_memory": False,
    "show_signature": False,
    "min_reported_time": 1,
    "download_all_examples": False,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
}

# numba's first-use compilation warns about nothing we can act on in an example.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="numba")


def setup(app):  # noqa: D103
    def _copy_mathjax(app, exception):
        if exception is None and app.builder.format == "html":
            target = Path(app.outdir) / "_static" / "mathjax"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_MATHJAX, target / _MATHJAX.name)

    app.connect("build-finished", _copy_mathjax)
