"""Errors a user can act on. The CLI prints their message without a traceback."""

#: upstream's marker for an answer that could not be obtained (the prediction a failed request leaves); the
#: models write it and every later stage recognises it, so it lives here, below all of them
FAIL_MSG = "Failed to obtain answer via API."


class InputError(Exception):
    """Bad input (file, row, column, config key or name); the message says where and what to do."""
