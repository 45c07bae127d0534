"""Real pen data: people's pen trajectories (pendigits, UNIPEN) replayed as canvas sketches
(`replay`), edited into writing styles MNIST lacks (`styles`), and a model's accuracy on
them (`drawn_accuracy`)."""
