"""`python -m services.notifications`: runs the notifications service alone until SIGINT or
SIGTERM — the outbox consumer, the dispatcher and the gRPC API.

Configured from SALESFLOW_* variables (see README.md); the database must be migrated
already (`salesflow db upgrade`).
"""

from salesflow.core.runner import run_service
from services.notifications.server import serve

if __name__ == "__main__":
    run_service("notifications", serve, needs_events=True, needs_temporal=False)
