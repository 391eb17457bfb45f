"""CLI commands that live in their own modules; each registers on ``stockpile.cli.app``.

Import order here is the order ``stockpile --help`` lists them.
"""

from . import explain  # noqa: F401,E402

from . import sweep  # noqa: E402,F401
from . import hedge  # noqa: E402,F401
