"""Training: the tensor-first loop as a stream of events (`loop`), batched augmentation on
the device (`augment`), CUDA-graph steps (`cuda_graph`), train-and-save (`to_checkpoint`),
the same in a child process (`child`), and one run at a time for a server (`jobs`)."""

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
