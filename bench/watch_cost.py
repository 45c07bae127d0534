"""What a run's timeline costs: reading the watched drawings (target: at most 2% of the
run's time) and reading the 10,000 test images at each evaluation.

Trains each recipe once with 10 watched drawings (MNIST test digits), timing every call of
the recorder (`training.timeline_recorder`) against the run's wall time, from the first
event to the last.

    python -m bench.watch_cost                                   # speedrun and t5_mlp_bn
    python -m bench.watch_cost --recipes resnet_drawn --set steps=500
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from bench import run_script
from bench.time_estimate import settings_from
from mnist_app.core.data import load_mnist
from mnist_app.core.timeline import MAX_WATCHED, NO_LABEL, Watched
from mnist_app.training import run
from mnist_app.training.recipes import make_config
from mnist_app.training.timeline_recorder import TimelineRecorder


def timed_recorder(spent: dict[str, float], calls: dict[str, int]) -> None:
    """The recorder's reading methods, timed into `spent` (seconds by method) and counted
    into `calls`."""
    for method in ("read_watched", "evaluated"):
        original = getattr(TimelineRecorder, method)

        def timed(self, *args, _original=original, _name=method):
            began = time.perf_counter()
            try:
                return _original(self, *args)
            finally:
                spent[_name] += time.perf_counter() - began
                calls[_name] += 1

        setattr(TimelineRecorder, method, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["speedrun", "t5_mlp_bn"])
    parser.add_argument("--set", nargs="*", default=[], help="setting=value for every run")
    args = parser.parse_args()
    data = load_mnist()
    watched = Watched(data.test_images[:MAX_WATCHED].clone(), (NO_LABEL,) * MAX_WATCHED)
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    timed_recorder(spent, calls)
    print("| recipe | steps | run (wall) | watched drawings read | share | test set read | share |")
    print("|---|---|---|---|---|---|---|")
    for recipe in args.recipes:
        spent.clear(), calls.clear()
        config = make_config(recipe, **settings_from(args.set))
        began = time.perf_counter()
        done = run(config, data, watched=watched)
        wall = time.perf_counter() - began
        watch_s, test_s = spent["read_watched"], spent["evaluated"]
        print(
            f"| `{recipe}` | {done.steps:,} | {wall:.1f} s | {calls['read_watched']} times, "
            f"{watch_s * 1000:.0f} ms | {watch_s / wall:.2%} | {calls['evaluated']} times, "
            f"{test_s:.2f} s | {test_s / wall:.1%} |"
        )


if __name__ == "__main__":
    run_script(main)
