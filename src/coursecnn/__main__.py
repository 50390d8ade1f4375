"""`python -m coursecnn`: the same as the `coursecnn` command."""

import sys

from .cli import main

sys.exit(main())
