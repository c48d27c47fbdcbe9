"""In the embedded mode (no Redis) there is no Celery worker or beat: the periodic work
(routing sweep, presence grace, offline reassignment) runs inside the server process."""


def start_embedded_timers() -> None:
    """Start the periodic jobs in this process when running embedded (routing issue)."""
