"""python -m services.dashboard: the dashboard alone, against the configured services."""

import sys

from salesflow.cli.main import main

sys.exit(main(["dashboard", *sys.argv[1:]]))
