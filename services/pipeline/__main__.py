"""`python -m services.pipeline`: the pipeline service alone (see salesflow.core.runner)."""

from salesflow.core.runner import run_service
from services.pipeline.server import serve

if __name__ == "__main__":
    run_service("pipeline", serve, needs_events=True, needs_temporal=True)
