"""`python -m trialsieve`: the same command line as `trialsieve`."""

import sys

from trialsieve.cli import main

sys.exit(main())
