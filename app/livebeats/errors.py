"""Errors services raise for the user: the message says what went wrong and what is allowed."""

import sqlalchemy.exc

DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
)
"""What reaching PostgreSQL raises while it is down, restarting or out of connections.

SQLAlchemy wraps asyncpg's connection errors in OperationalError/InterfaceError;
a refused or reset TCP connection and the realtime bus's BusUnavailable are OSErrors.
"""


class UserError(Exception):
    """Something the user can fix or understand; `str(error)` is shown to them."""


class NotAllowed(UserError):
    """The user is signed in but may not do this (for example, is not the owner)."""


class SignInRequired(UserError):
    """A signed-out visitor (a public profile's listener) asked for what needs an account."""


class NotFound(UserError):
    """The thing named by the request does not exist (any more)."""


class InvalidInput(UserError):
    """The request's data breaks a rule; the message names the input and the rule."""
