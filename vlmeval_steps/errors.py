"""Errors a user can act on. The CLI prints their message without a traceback."""


class InputError(Exception):
    """Bad input (file, row, column, config key or name); the message says where and what to do."""
