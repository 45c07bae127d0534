import dataclasses
import queue
import threading
import time

import pytest
import torch

from mnist_app.core.models import build_model
from mnist_app.training import DoneEvent, EpochEvent, StepEvent, TrainingDiverged, run, train
from mnist_app.training.recipes import RECIPES, make_config


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_builds_a_model_with_ten_outputs(name):
    config = RECIPES[name].config
    model = build_model(config.arch, **config.arch_kwargs)
    x = torch.randn(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model.eval()(x).shape == (3, 10)


@pytest.mark.parametrize("name", list(RECIPES))
def test_every_recipe_lowers_the_loss_in_a_few_steps(name, small_mnist):
    config = make_config(name, steps=40, val_size=500)
    if config.negatives:  # less material to render: a few seconds, not minutes
        config = dataclasses.replace(config, negatives=300, drawn_styles=0, drawn_copies=1)
    losses = [e.loss for e in train(config, small_mnist) if isinstance(e, StepEvent)]
    assert len(losses) == 40
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first, f"{name}: loss went from {first:.4f} to {last:.4f}"


def test_tutorial_defaults_are_kept():
    t1 = RECIPES["t1_mlp_mse"].config
    assert (t1.loss, t1.lr, t1.momentum, t1.batch_size, t1.epochs) == ("mse", 0.01, 0.9, 512, 3)
    assert (t1.mean, t1.std) == (0.1307, 0.3081)
    t2 = RECIPES["t2_fullbatch_mlp"].config
    assert (t2.batch_size, t2.steps, t2.lr, t2.arch_kwargs["hidden"]) == (0, 5000, 0.003, [30, 30])
    t4 = RECIPES["t4_mlp_bn"].config
    assert (t4.schedule, t4.step_size, t4.gamma, t4.epochs) == ("step", 5, 0.5, 20)
    t5 = RECIPES["t5_mlp_bn"].config
    assert (t5.lr, t5.weight_decay, t5.batch_size, t5.mean, t5.std) == (0.02, 1e-4, 128, 0.5, 0.5)


def test_full_batch_steps_see_every_training_image(small_mnist):
    config = make_config("t2_fullbatch_mlp", steps=3, val_size=1000)
    events = list(train(config, small_mnist))
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [e.epoch for e in steps] == [1.0, 2.0, 3.0]  # one step is one pass over all images


def test_epoch_events_carry_train_and_validation_metrics(small_mnist):
    config = make_config("t5_mlp_bn", epochs=5, val_size=1000)
    epochs = [e for e in train(config, small_mnist) if isinstance(e, EpochEvent)]
    assert [e.epoch for e in epochs] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(0 <= e.val_accuracy <= 1 and 0 <= e.train_accuracy <= 1 for e in epochs)
    assert epochs[-1].val_accuracy > 0.8


def test_a_run_of_an_epoch_or_two_still_reports_four_times(small_mnist):
    config = make_config("t5_mlp_bn", epochs=2, val_size=1000)
    epochs = [e.epoch for e in train(config, small_mnist) if isinstance(e, EpochEvent)]
    assert len(epochs) == 4 and epochs[-1] == 2.0  # an accuracy curve to watch as it goes
    assert epochs == sorted(epochs)


def test_t1_recipe_reaches_the_tutorials_accuracy(mnist):
    done = run(make_config("t1_mlp_mse"), mnist)
    assert done.test_accuracy > 0.86  # the tutorial reports 88.7% after 3 epochs


def test_same_seed_same_result_other_seed_other_result(small_mnist):
    def losses(seed):
        config = make_config("t3_cnn", steps=15, seed=seed, val_size=500)
        return [e.loss for e in train(config, small_mnist) if isinstance(e, StepEvent)]

    assert losses(3) == losses(3)
    assert losses(3) != losses(4)


def test_divergence_stops_with_a_clear_message(small_mnist):
    config = make_config("t1_mlp_mse", lr=1e6, steps=50)
    with pytest.raises(TrainingDiverged, match="lower learning rate"):
        run(config, small_mnist)


def test_stop_from_another_thread_yields_a_usable_model(small_mnist):
    config = make_config("t4_lenet5", epochs=50, val_size=500)
    stop = threading.Event()
    events: queue.Queue = queue.Queue()

    def worker():
        for event in train(config, small_mnist, stop):
            events.put(event)

    thread = threading.Thread(target=worker)
    thread.start()
    while not isinstance(event := events.get(timeout=60), StepEvent) or event.step < 5:
        pass
    stop.set()
    thread.join(timeout=60)
    collected = [event]
    while not events.empty():
        collected.append(events.get())
    done = collected[-1]
    assert isinstance(done, DoneEvent)
    assert done.stopped and done.steps < event.total_steps
    assert done.model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert 0 <= done.test_accuracy <= 1


def test_stop_before_the_first_step_still_returns_a_model(small_mnist):
    stop = threading.Event()
    stop.set()
    done = run(make_config("t5_mlp_bn", val_size=500), small_mnist, stop)
    assert done.stopped and done.steps == 0
    assert done.model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr": 0}, "learning rate"),
        ({"epochs": 0}, "at least one epoch"),
        ({"batch_size": -1}, "batch size"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of"),
        ({"colour": "red"}, "unknown training setting"),
        ({"drawn_styles": 1}, "writing styles are made from drawn digits"),
        ({"negatives": 100}, "non-digits are taught with the cross-entropy loss"),
        ({"reject_below": 1.5}, r"refuse below must be in \[0, 1\]"),
        ({"detector_refuse": 0.01}, "a digit detector is fitted on digits against non-digits"),
    ],
)
def test_bad_settings_are_refused_with_a_message(overrides, message):
    with pytest.raises(ValueError, match=message):
        make_config("t1_mlp_mse", **overrides)


def test_batch_larger_than_the_training_set_is_refused(small_mnist):
    with pytest.raises(ValueError, match="larger than the 5500 training images"):
        run(make_config("t5_mlp_bn", batch_size=6000, val_size=500), small_mnist)


def test_unknown_recipe_lists_the_known_ones():
    with pytest.raises(ValueError, match="t1_mlp_mse"):
        make_config("no_such_recipe")


def test_config_round_trips_through_a_dict():
    config = make_config("t3_cnn", dropout=0.3)
    assert config.dropout == 0.3 and config.model_kwargs()["dropout"] == 0.3
    assert type(config)(**dataclasses.asdict(config)) == config


def test_augmentation_warps_each_image_differently_and_zero_ranges_are_identity(mnist):
    from mnist_app.training.augment import random_affine

    x = mnist.train_images[:16].float().div(255).unsqueeze(1)
    same = random_affine(x, torch.Generator().manual_seed(0), rotate=0, shift=0, scale=0)
    assert torch.allclose(same, x, atol=1e-5)
    warped = random_affine(x, torch.Generator().manual_seed(0), rotate=15, shift=0.1, scale=0.1)
    assert warped.shape == x.shape and not torch.allclose(warped, x, atol=0.05)
    # A warp moves ink around but keeps most of it inside the 28x28 frame.
    ink_ratio = warped.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert ((ink_ratio > 0.7) & (ink_ratio < 1.4)).all()


def test_elastic_augmentation_bends_strokes_by_at_most_a_few_pixels(mnist):
    from mnist_app.training.augment import random_affine

    x = mnist.train_images[:64].float().div(255).unsqueeze(1)
    bent = random_affine(
        x, torch.Generator().manual_seed(0), rotate=0, shift=0, scale=0, elastic=2.0
    )
    assert not torch.allclose(bent, x, atol=0.05)  # every image changes ...
    assert ((bent - x).abs().amax(dim=(1, 2, 3)) > 0.3).all()
    # ... but ink moves at most ~2 px: none lands farther than 3 px from the original ink.
    near = torch.nn.functional.max_pool2d(x, 7, stride=1, padding=3)
    assert bent[near == 0].abs().max() < 1e-3
    ratio = bent.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert ((ratio > 0.7) & (ratio < 1.4)).all()  # stretched or squeezed, not lost


def test_thickness_augmentation_changes_ink_mass_both_ways(mnist):
    from mnist_app.training.augment import random_thickness

    x = mnist.train_images[:64].float().div(255).unsqueeze(1)
    out = random_thickness(x, torch.Generator().manual_seed(0), amount=1.0)
    ratio = out.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert (ratio > 1.1).any() and (ratio < 0.9).any()  # some thicker, some thinner
    assert (ratio > 0.3).all()  # thinning never wipes a digit out
    assert torch.equal(random_thickness(x, torch.Generator(), amount=0.0), x)


def test_thickness_augmentation_blends_towards_the_3x3_dilation_or_erosion(mnist):
    from mnist_app.training.augment import random_thickness

    x = mnist.train_images[:32].float().div(255).unsqueeze(1)
    out = random_thickness(x, torch.Generator().manual_seed(3), amount=1.0)
    t = 2 * torch.rand(32, 1, 1, 1, generator=torch.Generator().manual_seed(3)) - 1
    t = torch.where(t < 0, t / 2, t)
    dilated = torch.nn.functional.max_pool2d(x, 3, stride=1, padding=1)
    eroded = -torch.nn.functional.max_pool2d(-x, 3, stride=1, padding=1)
    expected = x + t.abs() * (torch.where(t > 0, dilated, eroded) - x)
    assert torch.allclose(out, expected, atol=1e-6)


def test_a_probe_sees_the_model_at_its_steps_off_the_training_clock(small_mnist):
    from mnist_app.training import Probe

    seen = []

    def look(model, step, train_s):
        seen.append((step, train_s, model.training))
        threading.Event().wait(0.3)  # a slow look must not count as training

    start = time.perf_counter()
    done = run(make_config("t5_mlp_bn", steps=7, val_size=0), small_mnist, probe=Probe(3, look))
    wall_s = time.perf_counter() - start
    assert [step for step, _, _ in seen] == [3, 6, 7]
    assert all(training for _, _, training in seen)  # handed over mid-training
    assert seen[-1][1] == pytest.approx(done.train_time_s)
    assert done.train_time_s < wall_s - 3 * 0.3  # the three looks' time is not in it
