"""The Sphinx documentation builds with warnings as errors, documents every
public name and every declaration of nnc.h, has the gallery's figures, and
renders in a headless browser (Debian's chromium and chromedriver) with its
images loaded.

Slow extras (the build runs the gallery's studies): deselected by the
default pytest, run by .ci/run's second step (`pytest -m slow_extra`).
"""

from __future__ import annotations

import importlib
import inspect
import re
import shutil
import subprocess
import sys

import pytest
from helpers.optional import need, require
from helpers.paths import REPO
from helpers.processes import PACKAGE_PARENT

import nnc

pytestmark = pytest.mark.slow_extra

#: The modules whose public names the API reference must hold, besides
#: the top-level package's __all__.
MODULES = ["nnc.optimizers", "nnc.callbacks", "nnc.datasets", "nnc.plot", "nnc.testing",
           "nnc.sklearn", "nnc.errors", "nnc.saving", "nnc.initializers", "nnc.inspection",
           "nnc.layout", "nnc.losses", "nnc.metrics", "nnc.onnx", "nnc.torch_interop",
           "nnc.pytest_plugin", "nnc.distributed"]

#: A page of each kind that the browser opens, with a phrase it must show.
PAGES = {"index.html": "multilayer perceptrons",
         "api/nnc.html": "Sequential",
         "_generated/gallery/initialization.html": "Figures"}


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    require("sphinx")
    require("myst_parser")
    out = tmp_path_factory.mktemp("html")
    env = {"PYTHONPATH": PACKAGE_PARENT, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
                           "-q", str(REPO / "docs"), str(out)], capture_output=True, text=True,
                          cwd=REPO, env={**__import__("os").environ, **env}, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    return out


def inventory(html) -> dict[str, set[str]]:
    from sphinx.util.inventory import InventoryFile

    with open(html / "objects.inv", "rb") as f:
        inv = InventoryFile.load(f, "", lambda *parts: "/".join(parts))
    data = inv.data if hasattr(inv, "data") else inv
    return {kind: set(entries) for kind, entries in data.items()}


def public_names(module) -> list[str]:
    """__all__, or the classes and functions the module defines itself."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, obj in vars(module).items() if not name.startswith("_")
            and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == module.__name__]


def test_every_public_python_name_is_documented(html):
    documented = set().union(*(names for kind, names in inventory(html).items()
                               if kind.startswith("py:")))

    def found(module_name, name):
        # Under the name users import it by, or where it is defined (the
        # engine's exception classes are nnc._core's).
        obj = getattr(importlib.import_module(module_name), name)
        canonical = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        return f"{module_name}.{name}" in documented or canonical in documented

    missing = [f"nnc.{name}" for name in nnc.__all__
               if not inspect.ismodule(getattr(nnc, name)) and not found("nnc", name)]
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        missing += [f"{module_name}.{n}" for n in public_names(module)
                    if not found(module_name, n)]
    assert missing == []
    # The main entry points' docstrings reached the page with their sections.
    page = (html / "api" / "nnc.html").read_text()
    for heading in ("Parameters", "Returns", "Raises", "Examples"):
        assert f">{heading}<" in page, heading


def test_every_declaration_of_nnc_h_is_on_the_c_page(html):
    header = (REPO / "csrc" / "include" / "nnc.h").read_text()
    functions = set(re.findall(r"^[a-z][\w ]*?\**\b(nnc_\w+)\(", header, re.M))
    types = set(re.findall(r"^\}\s*(nnc_\w+);|^typedef struct nnc_model (nnc_model);", header,
                           re.M))
    types = {t for pair in types for t in pair if t}
    inv = inventory(html)
    c_names = set().union(*(names for kind, names in inv.items() if kind.startswith("c:")))
    assert len(functions) >= 60 and functions - c_names == set()
    assert types - c_names == set()
    assert "nnc_version" in c_names and "NNC_VERSION_MAJOR" in c_names


def test_gallery_pages_show_every_figure_of_every_study(html):
    studies = ["initialization", "vanishing_gradients", "universal_approximation",
               "logic_gates"]
    for study in studies:
        page = (html / "_generated" / "gallery" / f"{study}.html").read_text()
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
        assert images, study
        for src in images:
            assert (html / "_generated" / "gallery" / src).resolve().stat().st_size > 5000, src
    # The figures were made by this build, not taken from the repository.
    tracked = subprocess.run(["git", "ls-files", "*.png"], cwd=REPO, capture_output=True,
                             text=True).stdout.split()
    assert tracked == []


def browser():
    webdriver = require("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        need("chromium and chromedriver", "apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,900"):
        options.add_argument(arg)
    options.binary_location = chromium
    return webdriver.Chrome(service=Service(driver), options=options)


def test_pages_render_in_a_headless_browser_with_their_images(html, tmp_path):
    plt_image = require("matplotlib.image")
    driver = browser()
    try:
        for page, phrase in PAGES.items():
            driver.get((html / page).as_uri())
            state = driver.execute_script(
                "return {title: document.title, text: document.body.innerText,"
                " ready: document.readyState,"
                " images: Array.from(document.images).map("
                "   i => ({src: i.src, complete: i.complete, width: i.naturalWidth}))};")
            assert state["ready"] == "complete" and f"nnc {nnc.__version__}" in state["title"]
            assert phrase in state["text"], page
            broken = [i["src"] for i in state["images"] if not i["complete"] or i["width"] == 0]
            assert broken == [], page
            if page != "api/nnc.html":  # the API page has text only
                assert len(state["images"]) >= 1, page
            shot = tmp_path / (page.replace("/", "_") + ".png")
            assert driver.save_screenshot(str(shot))
            pixels = plt_image.imread(shot)
            assert pixels.shape[0] > 500 and pixels.std() > 0.05, page  # not a blank page
    finally:
        driver.quit()
