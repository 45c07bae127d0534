"""The CLI as a user runs it: real subprocesses, real MNIST."""

import os
import re
import subprocess
import sys

import pytest

from mnist_app.core.paths import PROJECT_ROOT
from tests.conftest import MNIST_DIR


def cli(*args: str, cwd=PROJECT_ROOT, module: str = "mnist_app") -> subprocess.CompletedProcess:
    """`python -m mnist_app ARGS` (or another `module`) as a user types it."""
    env = {**os.environ, "MNIST_DIR": str(MNIST_DIR)}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory):
    weights = tmp_path_factory.mktemp("weights")
    result = cli(
        "train",
        "--recipe",
        "t5_mlp_bn",
        "--steps",
        "60",
        "--name",
        "cli_model",
        "--weights-dir",
        str(weights),
        "--val-size",
        "1000",
    )
    assert result.returncode == 0, result.stderr
    assert "saved" in result.stdout and "test accuracy" in result.stdout
    return weights


def test_train_saves_a_checkpoint_that_evaluate_reads(trained_dir):
    assert (trained_dir / "cli_model.pt").is_file()
    result = cli("evaluate", str(trained_dir / "cli_model.pt"), "--mistakes", "3")
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
    assert "confusion matrix" in result.stdout and "per-class accuracy" in result.stdout
    assert len(re.findall(r"#\d+ +\d -> \d", result.stdout)) == 3


def test_train_refuses_to_overwrite_without_asking(trained_dir):
    result = cli(
        "train",
        "--recipe",
        "t5_mlp_bn",
        "--steps",
        "5",
        "--name",
        "cli_model",
        "--weights-dir",
        str(trained_dir),
    )
    assert result.returncode == 2
    assert "exists" in result.stderr and "--overwrite" in result.stderr


def accuracy(stdout: str) -> float:
    return float(re.search(r"test accuracy:? ([\d.]+)%", stdout).group(1))


def test_fine_tuning_starts_from_the_saved_model(trained_dir):
    saved = accuracy(cli("evaluate", str(trained_dir / "cli_model.pt")).stdout)
    # One step at a negligible rate: the start's accuracy, where fresh weights read ~10%.
    args = ["--recipe", "t5_mlp_bn", "--steps", "1", "--lr", "1e-9", "--weights-dir"]
    tuned = cli("train", *args, str(trained_dir), "--name", "tuned", "--start-from", "cli_model")
    assert tuned.returncode == 0, tuned.stderr
    assert saved > 80 and accuracy(tuned.stdout) > saved - 1.5
    fresh = cli("train", *args, str(trained_dir), "--name", "fresh")
    assert accuracy(fresh.stdout) < 50


def test_a_start_that_cannot_be_fine_tuned_says_why(trained_dir):
    where = ["--weights-dir", str(trained_dir), "--name", "x", "--steps", "1"]
    other = cli("train", "--recipe", "speedrun", *where, "--start-from", "cli_model")
    assert other.returncode == 2
    assert "'cli_model' is a mlp model, not the recipe's speednet" in other.stderr
    same_scale = ["--mean", "0.5", "--std", "0.5"]
    wider = cli("train", "--recipe", "t4_mlp_bn", *where, *same_scale, "--start-from", "cli_model")
    assert wider.returncode == 2 and "weights do not fit" in wider.stderr
    missing = cli("train", "--recipe", "t5_mlp_bn", *where, "--start-from", "nothing")
    assert missing.returncode == 2 and "checkpoint not found" in missing.stderr
    scaled = cli(
        "train",
        "--recipe",
        "t5_mlp_bn",
        *where,
        "--start-from",
        "cli_model",
        "--mean",
        "0.1307",
        "--std",
        "0.3081",
    )
    assert scaled.returncode == 2
    assert "normalised with mean 0.5 and std 0.5, not 0.1307 and 0.3081" in scaled.stderr
    assert "Traceback" not in other.stderr + wider.stderr + missing.stderr + scaled.stderr


def test_unknown_recipe_is_a_clear_error():
    result = cli("train", "--recipe", "nope")
    assert result.returncode == 2
    assert "unknown recipe 'nope'" in result.stderr and "t1_mlp_mse" in result.stderr
    assert "Traceback" not in result.stderr


def test_divergence_saves_nothing(tmp_path):
    result = cli(
        "train",
        "--recipe",
        "t1_mlp_mse",
        "--lr",
        "1e6",
        "--steps",
        "50",
        "--name",
        "boom",
        "--weights-dir",
        str(tmp_path),
    )
    assert result.returncode == 1
    assert "lower learning rate" in result.stderr and "Nothing was saved" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_evaluate_missing_checkpoint_is_a_clear_error(tmp_path):
    result = cli("evaluate", str(tmp_path / "missing.pt"))
    assert result.returncode == 2
    assert "checkpoint not found" in result.stderr and "Traceback" not in result.stderr


def test_help_and_recipe_list():
    assert "--batch-size" in cli("train", "--help").stdout
    listing = cli("train", "--list").stdout
    assert "t2_fullbatch_mlp" in listing and "speedrun" in listing
