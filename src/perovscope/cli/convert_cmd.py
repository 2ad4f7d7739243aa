"""Sub-command module (filled in by its area)."""


def register(subparsers) -> None:
    """Add this module's sub-commands to ``subparsers``."""
