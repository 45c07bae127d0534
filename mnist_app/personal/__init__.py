"""A person's own handwriting: their drawings kept on the server (`store`), and a model
fitted to them in seconds (`fit`)."""
