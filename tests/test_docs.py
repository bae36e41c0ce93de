"""Docs that travel with the repo: docs/metrics.md is the registry's, and the
worked examples in the docstrings run as doctests."""
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import cs_xl
from cs_xl import catalogue, metric_docs

ROOT = Path(__file__).resolve().parents[1]


def test_metrics_md_is_up_to_date():
    committed = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert committed == metric_docs.markdown(), "docs/metrics.md is stale: run python -m cs_xl.metric_docs"


def test_metrics_md_documents_every_metric():
    text = metric_docs.markdown()
    for m in catalogue.METRICS.values():
        assert f"(`{m.key}`)" in text and m.udf in text and m.zh in text and m.en in text


def test_readme_links_the_metric_docs_not_a_folder_outside_the_repo():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/metrics.md)" in readme
    assert "../shared/SPEC.md" not in readme


def _modules():
    return [importlib.import_module(f"cs_xl.{info.name}") for info in pkgutil.iter_modules(cs_xl.__path__)
            if info.name != "__main__"]


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_metric_docstrings_hold_examples():
    """The doctests above cannot pass by running nothing: metrics.py alone holds dozens."""
    from cs_xl import metrics
    finder = doctest.DocTestFinder()
    examples = sum(len(t.examples) for t in finder.find(metrics))
    assert examples >= 40
