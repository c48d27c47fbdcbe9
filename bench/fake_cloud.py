"""The fake WhatsApp Cloud API the outbound sender talks to during a run."""

from __future__ import annotations

from bench import stack
from bench.context import Context


def start(ctx: Context) -> str:
    """Start it on a port of the range; returns what ``WHATSAPP_GRAPH_URL`` should be."""
    port = ctx.port()
    ctx.start(
        stack.Process(
            name=f"fake-cloud-{port}",
            argv=[stack.PYTHON, "manage.py", "fake_cloud_api", "--port", str(port)],
            env=ctx.env(),
            log_dir=ctx.log_dir,
            port=port,
        )
    )
    return f"http://{stack.HOST}:{port}/v21.0"
