"""The package's import graph: no cycles, and the layers that must stay writer-free import no Excel library.

The graph is read statically (``ast``) from every module of ``cs_xl``,
function-local imports included (a cycle hidden in a function still ties two
modules together); imports under ``if TYPE_CHECKING:`` are left out, since
they never run.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cs_xl"
EXCEL_LIBRARIES = {"openpyxl", "xlwings", "python_calamine", "xlsxwriter"}
# modules whose code must not touch a spreadsheet library: the report model and everything
# between it and a writer (ARCHITECTURE principles 4 and 5)
WRITER_FREE = ("cs_xl.report", "cs_xl.report.model", "cs_xl.render.layout", "cs_xl.render.styles",
               "cs_xl.render.cells", "cs_xl.values")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_nodes(tree: ast.AST):
    """Every import statement that can run, at any depth (functions included), TYPE_CHECKING blocks skipped."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in import_nodes(ast.Module(body=[child], type_ignores=[])))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from import_nodes(node)


def imported_names(name: str, path: Path, known: set[str]) -> set[str]:
    """Absolute names of what module ``name`` imports: cs_xl modules (a ``from pkg import mod`` counts as
    importing ``pkg.mod``) and the top-level names of outside packages."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
            continue
        if node.level:
            base = package.split(".")
            base = base[:len(base) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        out.add(source)
        out |= {f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in known}
    return out


def ancestors(name: str) -> set[str]:
    """The packages holding module ``name`` (``cs_xl.report.build`` → cs_xl, cs_xl.report)."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def graph() -> dict[str, set[str]]:
    """cs_xl module → the cs_xl modules it imports.  Importing a submodule runs its packages'
    ``__init__`` too, except the importer's own packages: those are already being imported (a
    package's ``__init__`` re-exporting its submodules is no cycle)."""
    mods = modules()
    known = set(mods)
    edges = {}
    for name, path in mods.items():
        targets = set()
        for target in imported_names(name, path, known):
            targets |= {package for package in ancestors(target) | {target} if package in known}
        edges[name] = targets - {name} - ancestors(name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_graph_reader_sees_relative_and_function_local_imports():
    edges = graph()
    assert "cs_xl.kpis" in edges["cs_xl.report.build"]            # from .. import kpis
    assert "cs_xl.report" in edges["cs_xl.render.layout"]          # from ..report import …
    assert "cs_xl.report" not in edges["cs_xl.report.build"]       # its own package
    assert "cs_xl.render.parts" in edges["cs_xl.book"]            # a function-local import
    assert "cs_xl.render.layout" in edges["cs_xl.render.xlsx"]     # from .layout import …
    assert "cs_xl.render.layout" not in edges["cs_xl.book"]        # only under TYPE_CHECKING
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_in_the_package():
    found = cycles(graph())
    assert found == [], "import cycles: " + "; ".join(" ↔ ".join(c) for c in found)


@pytest.mark.parametrize("name", WRITER_FREE)
def test_writer_free_modules_import_no_excel_library_themselves(name):
    path = modules()[name]
    outside = {n.split(".")[0] for n in imported_names(name, path, set(modules()))}
    assert not outside & EXCEL_LIBRARIES, f"{name} imports {sorted(outside & EXCEL_LIBRARIES)}"


def loads_excel_library(name: str) -> set[str]:
    code = f"import sys, {name}; print(' '.join(sorted(m for m in {sorted(EXCEL_LIBRARIES)!r} if m in sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(proc.stdout.split())


def test_the_layout_and_its_rules_load_no_excel_library():
    """Importing the layout (and so the report model it reads) loads no spreadsheet library;
    the model, analysis and pipeline have their own check in test_analysis."""
    for name in ("cs_xl.values", "cs_xl.render.cells", "cs_xl.render.styles", "cs_xl.render.layout"):
        assert loads_excel_library(name) == set(), name


def test_cs_xl_kpis_starts_without_the_report_or_heavy_libraries(tmp_path):
    """`cs-xl kpis` on a workbook (the benchmarked command) loads neither the report builders and
    analyses nor openpyxl, xlwings or scipy: start-up is part of its time (issue 7)."""
    import openpyxl  # the test writes the book; the command under test must not need it
    wb = openpyxl.Workbook()
    wb.active.title = "响应时间统计表"
    wb.active.append(["日期", "客服工号", "首次响应时间(分钟)"])
    wb.active.append(["2024-03-01", "C001", 2])
    wb.save(tmp_path / "book.xlsx")
    heavy = ("openpyxl", "xlwings", "scipy", "xlsxwriter", "cs_xl.report", "cs_xl.analysis", "cs_xl.render")
    code = (f"import sys, contextlib, io; from cs_xl import cli\n"
            f"with contextlib.redirect_stdout(io.StringIO()): cli.main(['kpis', {str(tmp_path / 'book.xlsx')!r}, '--json'])\n"
            f"print(' '.join(sorted(m for m in sys.modules if m.startswith({heavy!r}))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert proc.stdout.split() == []
