"""The house rules a newcomer relies on (docs/architecture.md): each package imports only
from the layers below it, ML code never imports Gradio, functions stay short enough to
read, and nothing edits sys.path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from mnist_app.core.paths import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "mnist_app"
# Bottom to top: a package may import from itself and from those before it. ui and cli
# are the faces, side by side at the top.
LAYERS = [
    "preprocess",
    "core",
    "pen",
    "analysis",
    "nondigit",
    "training",
    "personal",
    "service",
    "ui",
    "cli",
]
LONGEST_FUNCTION = 120
RANK = {name: min(rank, len(LAYERS) - 2) for rank, name in enumerate(LAYERS)}


def package_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, lazily or not, as an absolute dotted name."""
    here = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    package = here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found += [(node.lineno, module)]
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_import_runs_back_up_the_layers():
    wrong = []
    for path in package_modules():
        layer = package_of(path)
        if layer not in RANK:
            continue  # the package's own front: __init__, __main__ and the moved-command notes
        for line, module in imported_modules(path):
            parts = module.split(".")
            if parts[0] != "mnist_app" or len(parts) < 2 or parts[1] not in RANK:
                continue
            if RANK[parts[1]] > RANK[layer]:
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}")
    assert not wrong, "imports that run back up the layers:\n" + "\n".join(sorted(set(wrong)))


def test_only_the_web_faces_import_gradio():
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}:{line}"
        for path in package_modules()
        if package_of(path) != "ui"
        for line, module in imported_modules(path)
        if module.split(".")[0] in ("gradio", "gradio_client")
    ]
    assert not wrong, f"Gradio imported outside mnist_app/ui: {wrong}"


def test_no_function_in_the_package_is_too_long_to_read():
    long = []
    for path in package_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST_FUNCTION:
                    long.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}")
    assert not long, f"functions over {LONGEST_FUNCTION} lines: {long}"


def test_nothing_edits_sys_path():
    folders = ["mnist_app", "tests", "bench", "research", "scripts"]
    paths = [
        PROJECT_ROOT / "app.py",
        *(p for f in folders for p in (PROJECT_ROOT / f).rglob("*.py")),
    ]
    edits = [
        f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
        for path in paths
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.path"
    ]
    assert not edits, f"sys.path edited at {edits}: run scripts as modules instead"


def test_dev_code_is_not_in_the_package():
    shipped = {package_of(path) for path in package_modules()}
    assert "testing" not in shipped
    for path in package_modules():
        for line, module in imported_modules(path):
            assert module.split(".")[0] not in ("playwright", "pytest", "tests"), (
                f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}"
            )


def test_the_package_loads_its_api_on_first_use():
    """`import mnist_app` loads no torch (every --help answers at once); each public name
    still resolves, to the object its module defines."""
    script = (
        "import sys, mnist_app\n"
        "assert 'torch' not in sys.modules, 'importing mnist_app loaded torch'\n"
        "from mnist_app.core.predict import load_predictor\n"
        "assert mnist_app.load_predictor is load_predictor\n"
        "assert all(getattr(mnist_app, name) is not None for name in mnist_app.__all__)\n"
        "assert set(mnist_app.__all__) <= set(dir(mnist_app))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
