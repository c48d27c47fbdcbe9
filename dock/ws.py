"""WebSocket routes."""

from django.urls import path

from dock.consumers import DockConsumer

websocket_urlpatterns = [path("ws/dock/", DockConsumer.as_asgi())]
