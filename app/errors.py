"""Errors that are the user's to fix: the CLI prints them without a traceback."""


class UserError(Exception):
    """A problem with input, configuration or environment, with a message that says what to do."""


class ConnectionFailed(UserError):
    """No Neo4j answered, or it refused the credentials."""


class WrongPassword(ConnectionFailed):
    """A Neo4j answered but refused the user or password."""


class NoServer(ConnectionFailed):
    """Nothing that speaks Bolt answered at the URI."""
