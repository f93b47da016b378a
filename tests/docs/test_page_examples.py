"""Every Python example of the README and of the documentation's pages runs,
in order, in one interpreter per page, and prints what the page says it
prints (the convention: tests/helpers/page_examples.py)."""

import pytest
from helpers.optional import require
from helpers.page_examples import examples, mismatches, run_page, update
from helpers.paths import REPO
from helpers.processes import PACKAGE_PARENT

#: The pages with Python examples: the README and the Markdown pages of docs/.
PAGES = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").rglob("*.md")
                              if "_build" not in p.parts and examples(p.read_text()))]


def test_the_readme_and_the_guide_have_examples():
    assert "README.md" in PAGES and len(examples((REPO / "README.md").read_text())) >= 7
    assert "docs/guide.md" in PAGES


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run_in_order_and_print_what_the_page_says(page, tmp_path):
    for module in ("sklearn", "torch", "onnx", "onnxruntime", "matplotlib", "dask.array",
                   "distributed", "dask_ml"):
        require(module)  # the README's examples use every optional dependency
    results = run_page(REPO / page, tmp_path, {"PYTHONPATH": PACKAGE_PARENT})
    assert len(results) == len(examples((REPO / page).read_text()))
    problems = mismatches(REPO / page, results)
    assert not problems, ("\n\n".join(problems) +
                          f"\n(after checking the change: python tests/helpers/page_examples.py"
                          f" --update {page})")


PAGE = """Intro.

```python
x = 2
print(x * 3)
```

```text
6
```

```python
y = x + 1
```

```python
print(y)
```
"""


def test_the_runner_sees_order_output_and_errors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    results = run_page(page, tmp_path)
    # One namespace: the third block sees the first two's names.
    assert [r["stdout"] for r in results] == ["6\n", "", "3\n"]
    # The last block prints but the page shows no output: that is a mismatch.
    (problem,) = mismatches(page, results)
    assert "block at line 16 printed\n3\n" in problem
    update(page, results)
    assert page.read_text() == PAGE + "\n```text\n3\n```\n"
    assert mismatches(page, run_page(page, tmp_path)) == []
    # A wrong expected output and a raising block are reported.
    page.write_text(PAGE.replace("6\n```", "7\n```").replace("y = x + 1", "y = z"))
    results = run_page(page, tmp_path)
    assert len(results) == 2 and "NameError: name 'z' is not defined" in results[1]["error"]
    first, second = mismatches(page, results)
    assert "printed\n6\nbut the page says\n7" in first and "raised" in second
