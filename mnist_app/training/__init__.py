"""Training: the recipes (`recipes`), the tensor-first loop as a stream of events (`loop`),
batched augmentation on the device (`augment`), CUDA-graph steps (`cuda_graph`), torchrun
data parallelism (`distributed`), time estimates (`estimate`), fine-tuning starts
(`start`), train-and-save (`to_checkpoint`) and a digit detector for a trained model
(`add_detector`). Runs for a server are in `service/`."""

from .loop import DoneEvent, EpochEvent, Evaluating, Probe, StepEvent, TrainingDiverged, run, train
from .to_checkpoint import Finished, RunOrder, train_and_save

__all__ = [
    "DoneEvent",
    "EpochEvent",
    "Evaluating",
    "Finished",
    "Probe",
    "RunOrder",
    "StepEvent",
    "TrainingDiverged",
    "run",
    "train",
    "train_and_save",
]
