"""The kinds of mistake a user can make, and how the command-line tools report them.

A :class:`UserError` is shown as one message (what is wrong, where — config key, or file and line — what was
expected, how to fix it) and a non-zero exit, without a traceback; ``HYDRA_FULL_ERROR=1`` or
``BERTLAB_VERBOSE=1`` shows the traceback too. Anything else is an internal error and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

EXIT_USER_ERROR = 2
T = TypeVar("T")


class UserError(Exception):
    """Base of the errors a user can fix by changing a config value, a file or a command line."""


class ConfigError(UserError, ValueError):
    """A config key holds a value bertlab cannot use; the message names the key (``data.batch_size=0``)."""


class DataError(UserError, ValueError):
    """An input file is missing, unreadable or malformed; the message names the file and line or record."""


class CheckpointError(UserError, RuntimeError):
    """A checkpoint or export that is missing, unreadable, or does not fit the configured model."""


def verbose() -> bool:
    return any(os.environ.get(name, "") not in ("", "0") for name in ("HYDRA_FULL_ERROR", "BERTLAB_VERBOSE"))


def report(err: UserError, program: str) -> int:
    """Print ``err`` as one message on stderr; return the exit code."""
    print(f"{program}: error: {err}", file=sys.stderr)
    if not verbose():
        print("(set BERTLAB_VERBOSE=1 to see the traceback)", file=sys.stderr)
    return EXIT_USER_ERROR


def user_errors_exit(program: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator for entry points: a :class:`UserError` becomes one message and exit code 2."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        @wraps(function)
        def wrapper(*args, **kwargs) -> T:
            try:
                return function(*args, **kwargs)
            except UserError as err:
                if verbose():
                    raise
                raise SystemExit(report(err, program)) from None

        return wrapper

    return decorate
