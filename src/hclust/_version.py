"""The version of hclust: one place, read by the package, the CLI, saved models and reports.

It imports nothing, so any module may read it without loading the package's public API
(``from hclust import __version__`` inside hclust would import upwards, into the package).
``pyproject.toml`` reads it too (``[tool.setuptools.dynamic]``).
"""

__version__ = "0.1.0"
