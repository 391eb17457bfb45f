"""``python -m stockpile``: the command line, with Ctrl-C during start-up (imports take about half a
second) ending in exit 130 and one line, not a KeyboardInterrupt traceback."""

import sys

try:
    from stockpile.cli.app import main
except KeyboardInterrupt:
    sys.stderr.write("interrupted\n")
    sys.exit(130)

main()
