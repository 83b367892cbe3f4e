"""`python -m synthmill.client` is the `synthmill` command."""

import sys

from synthmill.client.cli import main

sys.exit(main())
