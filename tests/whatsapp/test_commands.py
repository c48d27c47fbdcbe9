"""``simulate_customers`` and ``fake_cloud_api``, run as the demo runs them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from io import StringIO

import httpx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from conversations.models import Contact, Conversation, Message
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_simulated_customers_write_signed_messages_that_open_conversations(
    live_server, monkeypatch
):
    monkeypatch.setattr("conversations.messaging.request_routing", lambda **_: None)
    channel = ChannelFactory()
    out = StringIO()
    call_command(
        "simulate_customers",
        url=live_server.url,
        channel=channel.pk,
        rate=20,
        duration=1.5,
        seed=7,
        stdout=out,
    )
    summary = out.getvalue()
    sent = int(re.search(r"messages: (\d+)", summary).group(1))
    deliveries = int(re.search(r"deliveries: (\d+)", summary).group(1))
    assert sent >= 1
    assert f"responses: 200: {deliveries}" in summary
    assert Message.objects.filter(channel=channel).count() == sent
    assert Conversation.objects.filter(channel=channel).count() <= sent
    assert all(Contact.objects.values_list("name", flat=True))


def test_simulating_for_an_unknown_channel_fails_clearly():
    with pytest.raises(CommandError, match="no WhatsApp channel with id 999999"):
        call_command("simulate_customers", url="http://127.0.0.1:9", channel=999999, duration=1)


def test_the_fake_cloud_api_command_serves_the_graph_api_until_stopped():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxgear.settings"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "fake_cloud_api", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        first_line = server.stdout.readline().decode()
        assert f"http://127.0.0.1:{port}/v21.0" in first_line
        base = f"http://127.0.0.1:{port}"
        answer = httpx.post(
            f"{base}/v21.0/106540352242922/messages",
            json={
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "16505551234",
                "type": "text",
                "text": {"body": "hello"},
            },
            headers={"Authorization": "Bearer token"},
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["contacts"] == [{"input": "16505551234", "wa_id": "16505551234"}]
        assert body["messages"][0]["id"].startswith("wamid.")
        httpx.post(f"{base}/_fake/fail", json={"count": 1, "status": 400, "code": 131047})
        refused = httpx.post(
            f"{base}/v21.0/106540352242922/messages",
            json={
                "messaging_product": "whatsapp",
                "to": "1",
                "type": "text",
                "text": {"body": "x"},
            },
            headers={"Authorization": "Bearer token"},
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == 131047
        unauthorised = httpx.post(f"{base}/v21.0/1/messages", json={})
        assert unauthorised.status_code == 401
        assert len(httpx.get(f"{base}/_fake/sent").json()) == 1
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert server.returncode is not None
