"""`python -m services.points`: runs the points service alone until SIGINT or SIGTERM.

Configured from SALESFLOW_* variables (see README.md); the database must be migrated
already (`salesflow db upgrade`).
"""

from salesflow.core.runner import run_service
from services.points.server import serve

if __name__ == "__main__":
    run_service("points", serve, needs_events=True, needs_temporal=False)
