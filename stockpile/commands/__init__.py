"""CLI commands that live in their own modules; each registers on ``stockpile.cli.app``.

Import order here is the order ``stockpile --help`` lists them.
"""
