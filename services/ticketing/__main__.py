"""`python -m services.ticketing`: runs the ticketing service alone until SIGINT or SIGTERM.

Configured from SALESFLOW_* variables (see README.md); the database must be migrated
already (`salesflow db upgrade`). Needs NATS and Temporal: resolutions reach pipelines.
"""

from salesflow.core.runner import run_service
from services.ticketing.server import serve

if __name__ == "__main__":
    run_service("ticketing", serve, needs_events=True, needs_temporal=True)
