"""Looking at a trained model: why it answered (`explain`), what an image resembled
(`neighbours`), two models side by side (`compare`), and the model as ONNX (`onnx_export`)."""
