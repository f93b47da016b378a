"""Helpers shared by the test modules, imported as ``from helpers.models
import build_model`` (pyproject.toml puts tests/ on sys.path).

    paths       the checkout's folders (REPO, TESTS)
    models      small nnc models and data: build_model, make_data, net_spec, pairs
    torch_twin  the same models computed with PyTorch ops
    processes   running Python in a subprocess with the nnc under test
    measures    record / measured: values printed in the run's summary
    reference   the slow pure-NumPy oracle of nnc's maths
    nncb_files  nncb model files, good and damaged, for the C and Python readers
    cbuild      the C engine built with csrc/Makefile (conftest's c_build fixture)
    optional    require("torch"), need(tool): skip when missing, fail in CI

tests/conftest.py holds only fixtures and hooks.
"""
