"""`python -m tbwidgets` runs the command line."""

import sys

from tbwidgets.cli.main import main

sys.exit(main())
