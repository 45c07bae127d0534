"""A person's own handwriting: a model's last layer fitted to their drawings in seconds
(`fit`), and their drawings read from a folder (`folder`). The server keeps drawings and
runs fits in `service/`."""
