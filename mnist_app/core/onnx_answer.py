"""A model's answer for one drawing through ONNX Runtime, for the pen canvas's frames sent
while the pen is down.

One 28x28 image through `resnet_drawn` takes 0.52 ms in ONNX Runtime against 1.69 ms
through torch on one CPU thread (bench/classroom.py, docs/performance.md): it fuses each
convolution with its batch norm and activation, and it has no Python between layers. The
numbers agree with `Predictor.answer` to about 1e-6, not to the bit, so the answer a
person keeps (at pen-up) still comes from torch.
"""

from __future__ import annotations

import os
from importlib.util import find_spec

import numpy as np


def available() -> bool:
    """Whether ONNX Runtime is installed (without importing it)."""
    return find_spec("onnxruntime") is not None


class OnnxAnswer:
    """`Predictor.answer` for one image, from the model's ONNX export (onnx_export.py)."""

    def __init__(self, path: str | os.PathLike):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One image is too small to share between threads; the server answers several
        # drawings at once on its cores instead.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            os.fspath(path), options, providers=["CPUExecutionProvider"]
        )

    def answer(self, image: np.ndarray) -> tuple[np.ndarray, bool]:
        """The ten probabilities of one 28x28 image (float 0-1, light ink on dark) and
        whether they name a digit. Thread-safe; the work runs outside the GIL."""
        batch = np.ascontiguousarray(image, dtype=np.float32).reshape(1, 1, 28, 28)
        probabilities, is_digit = self._session.run(None, {"image": batch})
        return probabilities[0], bool(is_digit[0])
