"""The README and docs as a newcomer follows them: every command they show exists and
answers --help, every module they name can be run, and every link between them lands."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from mnist_app.core.paths import PROJECT_ROOT

PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
PAGES += [PROJECT_ROOT / "bench" / "README.md", PROJECT_ROOT / "research" / "README.md"]
SHELL_BLOCK = re.compile(r"```(?:bash|sh|shell|console)\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def shell_lines() -> list[tuple[str, str]]:
    """(page, command line) for every line of every shell block, comments stripped."""
    found = []
    for page in PAGES:
        if page.exists():
            for block in SHELL_BLOCK.findall(page.read_text()):
                for line in block.splitlines():
                    line = line.split(" #")[0].strip()
                    if line and not line.startswith("#"):
                        found.append((page.name, line))
    return found


def module_commands(prefix: str) -> set[tuple[str, ...]]:
    """The distinct `python -m <prefix>...` invocations the docs show, as argv prefixes."""
    found = set()
    for _, line in shell_lines():
        words = shlex.split(line.replace("\\", ""))
        for i, word in enumerate(words[:-1]):
            if word == "-m" and words[i + 1].startswith(prefix):
                module = words[i + 1]
                sub = words[i + 2 : i + 3] if module == "mnist_app" else []
                found.add((module, *(s for s in sub if not s.startswith("-"))))
    return found


def test_the_docs_show_the_command_line():
    commands = module_commands("mnist_app")
    assert ("mnist_app", "train") in commands and ("mnist_app", "serve") in commands


@pytest.mark.parametrize("command", sorted(module_commands("mnist_app")), ids=" ".join)
def test_each_mnist_app_command_in_the_docs_answers_help(command):
    result = subprocess.run(
        [sys.executable, "-m", *command, "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_each_benchmark_research_and_dev_script_the_docs_name_exists():
    modules = module_commands("bench.") | module_commands("research.") | module_commands("scripts.")
    assert modules, "the docs should say how to run the benchmarks"
    missing = [
        m for (m, *_) in modules if not (PROJECT_ROOT / (m.replace(".", "/") + ".py")).exists()
    ]
    assert not missing, f"the docs name scripts that do not exist: {missing}"


def test_the_docs_run_scripts_as_modules_from_the_project_root():
    # `python scripts/x.py` puts scripts/ first on the path, where neither the package's
    # tests harness nor, uninstalled, the package itself can be imported.
    by_path = [page.name for page in PAGES if "python scripts/" in page.read_text()]
    assert not by_path, f"say `python -m scripts.<name>` in: {by_path}"


def test_a_benchmark_asked_for_a_model_that_is_not_there_says_so_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench.reject", "--models", "nosuch", "--weights-dir", tmp_path],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: checkpoint not found: {tmp_path / 'nosuch.pt'}"


def test_every_link_between_pages_lands_on_a_file():
    broken = []
    for page in PAGES:
        if page.exists():
            for target in LINK.findall(page.read_text()):
                if "://" not in target and not (page.parent / target).exists():
                    broken.append(f"{page.relative_to(PROJECT_ROOT)} -> {target}")
    assert not broken, f"broken links: {broken}"


def test_the_readme_is_a_front_door():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    first_block = SHELL_BLOCK.search(readme).group(1)
    assert "scripts/install.sh && .venv/bin/python app.py" in first_block
    assert "scripts/install.sh --dev && .venv/bin/python -m pytest -q" in first_block


def test_ci_runs_the_test_command_the_readme_gives():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "bash scripts/install.sh --dev && .venv/bin/python -m pytest -q" in ci
