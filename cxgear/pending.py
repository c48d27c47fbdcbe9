"""What the WhatsApp inbox still calls while it keeps its own marks of a waiting pass in
PostgreSQL (``channels_whatsapp.inbox``). Every pass's marks and lock are
``cxgear.passes``'s; this module goes once the inbox asks for its passes there."""

from __future__ import annotations

from cxgear.passes import KEY_PREFIX, send_after_commit

__all__ = ["KEY_PREFIX", "send_after_commit"]
