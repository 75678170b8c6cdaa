"""`python -m services.analytics`: runs the analytics service alone until SIGINT or SIGTERM.

Configured from SALESFLOW_* and SALESFLOW_ANALYTICS_* variables (see README.md); the
database must be migrated already (`salesflow db upgrade`).
"""

from salesflow.core.runner import run_service
from services.analytics.server import serve

if __name__ == "__main__":
    run_service("analytics", serve, needs_events=True, needs_temporal=False)
