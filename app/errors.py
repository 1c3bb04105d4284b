"""Errors that are the user's to fix: the CLI prints them without a traceback."""


class UserError(Exception):
    """A problem with input, configuration or environment, with a message that says what to do."""


class ConnectionFailed(UserError):
    """No Neo4j answered, or it refused the credentials."""
