"""Print docs/training.md's recipe table from the shipped checkpoints' own metrics.

python -m scripts.recipe_table        # paste the output into docs/training.md
"""

from __future__ import annotations

from mnist_app.core.checkpoint import checkpoint_path, load_checkpoint
from mnist_app.training.recipes import RECIPES


def main() -> None:
    print("| recipe | tutorial | what it is | parameters | test accuracy | training time |")
    print("|---|---|---|---|---|---|")
    for name, recipe in RECIPES.items():
        path = checkpoint_path(name)
        if path.exists():
            metrics = load_checkpoint(path).metrics
            params = f"{metrics['parameters']:,}"
            accuracy = f"{metrics['test_accuracy']:.2%}"
            seconds = f"{metrics['train_time_s']:.0f} s"
        else:
            params = accuracy = seconds = "not shipped"
        print(
            f"| `{name}` | {recipe.tutorial} | {recipe.description} | {params} | {accuracy} "
            f"| {seconds} |"
        )


if __name__ == "__main__":
    main()
