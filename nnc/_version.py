"""The version of nnc, in one place: the package metadata (pyproject.toml,
through setuptools' dynamic version) and ``nnc.__version__`` read it here."""

__version__ = "0.1.0"
