"""The dock's live connection (being built: see the dock issue)."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class DockConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.close()
