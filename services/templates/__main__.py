"""`python -m services.templates`: runs the template service alone until SIGINT or SIGTERM.

Configured from SALESFLOW_* variables (see README.md); the database must be migrated
already (`salesflow db upgrade`). Needs Temporal to preview and move running pipelines.
"""

from salesflow.core.runner import run_service
from services.templates.server import serve

if __name__ == "__main__":
    run_service("templates", serve, needs_events=False, needs_temporal=True)
