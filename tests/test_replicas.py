"""Several app replicas, one training server (docs/scale-out.md): a replica
started with a training address refuses to train and says where training runs, and serves
the models the trainer saves into the weights folder they share."""

from __future__ import annotations

import shutil

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from mnist_app.core.checkpoint import checkpoint_path
from tests.conftest import MNIST_DIR
from tests.harness.server import (
    MODEL,
    label_of,
    launched_app,
    train_args,
    weights_with_quick_model,
)
from tests.harness.sketches import composite_value as sketch
from tests.test_app_api import as_drawing

TRAINER = "https://train.example.org/"


def test_a_replica_sends_training_to_the_trainer_and_serves_its_models(mnist, tmp_path):
    shared = weights_with_quick_model(mnist, tmp_path / "weights")
    env = {"MNIST_APP_TRAINING_URL": TRAINER}
    with launched_app(shared, MNIST_DIR, tmp_path / "replica.log", env) as url:
        replica = Client(url, verbose=False)
        with pytest.raises(AppError, match=f"training runs at {TRAINER}"):
            replica.predict(**train_args(), api_name="/train")
        # The trainer saves a model into the shared folder: the replica serves it.
        shutil.copy(checkpoint_path(MODEL, shared), checkpoint_path("from-trainer", shared))
        names = {r["name"] for r in replica.predict(api_name="/models")}
        assert "from-trainer" in names
        png = as_drawing(mnist.test_images[0].numpy(), tmp_path / "digit.png")
        answer = replica.predict(sketch(png), "from-trainer", api_name="/predict")
        assert label_of(answer) == str(int(mnist.test_labels[0]))
