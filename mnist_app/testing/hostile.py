"""Hostile inputs for the security tests."""


class RunsCode:
    """Pickles as a call to exec(code): what a hostile .pt file would carry."""

    def __init__(self, code: str):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))
