"""`python -m crest_edge.cli`: the same as the `crest-edge` command."""

import sys

from . import main

sys.exit(main())
