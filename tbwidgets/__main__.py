"""`python -m tbwidgets` runs the command line (Ctrl-C while it starts up is one line, exit 130)."""

import sys

try:
    from tbwidgets.cli.main import main

    code = main()
except KeyboardInterrupt:  # before main() could take over: while Python imports the CLI
    print("Interrupted.", file=sys.stderr)
    code = 130
sys.exit(code)
