"""The version of nnc. It is defined once, by the NNC_VERSION_* macros of
csrc/include/nnc.h: setup.py reads them for the package metadata and the
engine reports them through nnc_version(), which is what this module gives
(docs/design.md, "Packaging")."""

from ._core import version as _engine_version

__version__ = _engine_version()
