"""The engine's core, which everything else builds on: MNIST as tensors (`data`), the
architectures (`models`) and the heads saved with them (`digit_detector`,
`personal_head`), checkpoints (`checkpoint`), evaluation and prediction, the training
settings (`settings`), devices, paths, atomic files and message helpers."""
