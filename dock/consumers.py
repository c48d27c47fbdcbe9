"""The dock's live connection at ``/ws/dock/``.

On connect the member joins their group and gets a snapshot carrying the ``seq`` it
reflects; from then on every event of their stream is sent once, in ``seq`` order. The
consumer remembers the last ``seq`` it sent: a live event it has sent already is dropped,
and one that arrives ahead of a gap (another process's send overtook it) makes the
consumer fill the gap from the stored stream first. Commands from the page are translated
one to one into service calls; each is answered with the request's id and ``ok`` or an
``error`` the page can show."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

from conversations import json_input, messaging, realtime, receipts, selectors
from conversations.events import conversation_payload, message_payload, presence_payload
from conversations.models import Conversation, Membership, Role, User
from dock import dock
from presence import services as presence_services
from presence.models import PresenceStatus
from routing import offers, services

logger = logging.getLogger(__name__)

# Close codes after which the page stops reconnecting: it sends the visitor to the
# sign-in page (4401), says this account has no dock (4403), or says the member was
# signed out because their access ended: deactivated or a new password (4410).
CLOSE_NOT_SIGNED_IN = 4401
CLOSE_NOT_ALLOWED = 4403
CLOSE_SIGNED_OUT = 4410

MAX_OUTCOME = 200
MAX_SEARCH = 200


class CommandError(Exception):
    """A command that cannot be done as asked; its message is shown to the agent."""


def _load_member(user: Any) -> Membership | None:
    try:
        member = Membership.objects.select_related("user").get(user=user)
    except Membership.DoesNotExist:
        return None
    return member if member.role in (Role.AGENT, Role.SUPERVISOR) else None


def _still_signed_in(user: Any) -> bool:
    """The socket's user is still active and has the password they signed in with."""
    return User.objects.filter(pk=user.pk, is_active=True, password=user.password).exists()


def _conversation(member: Membership, data: dict[str, Any]) -> Conversation:
    conversation_id = data.get("conversation")
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
        raise CommandError("conversation must be a conversation id")
    try:
        return selectors.visible_conversations(member=member).get(pk=conversation_id)
    except Conversation.DoesNotExist as exc:
        raise CommandError("no such conversation") from exc


def _text(data: dict[str, Any], key: str, *, limit: int, required: bool) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CommandError(f"{key} must be text")
    value = value.strip()
    if required and not value:
        raise CommandError(f"{key} is required")
    if len(value) > limit:
        raise CommandError(f"{key} is longer than {limit} characters")
    return value


class DockConsumer(AsyncJsonWebsocketConsumer):
    member: Membership | None = None
    group: str = ""
    sent_seq: int = 0

    # --- connection ---------------------------------------------------------------------

    async def connect(self) -> None:
        user = self.scope.get("user")
        # Accepted then closed with a code, so the page can tell "sign in" from "retry".
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_NOT_SIGNED_IN)
            return
        member = await database_sync_to_async(_load_member)(user)
        if member is None:
            await self.accept()
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.member = member
        self.group = realtime.member_group(member.pk)
        # Join before reading the snapshot: an event committed in between is either in
        # the snapshot (and dropped by seq) or arrives after it; none falls between.
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Checked after joining: access ended before this is seen here, after it the
        # group's sign-out message reaches this socket.
        if not await self._still_signed_in():
            await self.accept()
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        await self.accept()
        snapshot = await database_sync_to_async(dock.dock_snapshot)(member=member)
        self.sent_seq = snapshot["seq"]
        await self.send_json({"type": "snapshot", "seq": snapshot["seq"], "data": snapshot["data"]})
        await self._presence_call(presence_services.dock_connected)

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self._presence_call(presence_services.dock_disconnected)

    async def dock_signed_out(self, message: dict[str, Any]) -> None:
        """The member's access ended (``realtime.docks_sign_out``)."""
        await self.close(code=CLOSE_SIGNED_OUT)

    async def _still_signed_in(self) -> bool:
        return await database_sync_to_async(_still_signed_in)(self.scope["user"])

    # --- server events ------------------------------------------------------------------

    async def dock_event(self, message: dict[str, Any]) -> None:
        await self._deliver(message.get("event") or {})

    async def dock_events(self, message: dict[str, Any]) -> None:
        """Several events of the member's stream from one commit, in ``seq`` order: one
        channel-layer message instead of one each (``realtime._send_all``)."""
        for event in message.get("events") or []:
            await self._deliver(event)

    async def _deliver(self, event: dict[str, Any]) -> None:
        """Send a live event once, in ``seq`` order: one already sent is dropped, and one
        after a gap first brings the missing ones from the store."""
        seq = event.get("seq")
        if not isinstance(seq, int) or seq <= self.sent_seq:
            return
        if seq > self.sent_seq + 1:
            await self._send_stored(after=self.sent_seq)
            if seq <= self.sent_seq:
                return
        await self.send_json(event)
        self.sent_seq = seq

    async def _send_stored(self, *, after: int) -> None:
        """Send the stored events after ``after`` that this dock has not had, one frame
        each, a page of the store at a time however long the gap."""
        assert self.member is not None
        while True:
            events = await database_sync_to_async(realtime.events_after)(
                membership_id=self.member.pk, after=after, limit=dock.RESYNC_EVENTS
            )
            for event in events:
                if event["seq"] > self.sent_seq:
                    await self.send_json(event)
                    self.sent_seq = event["seq"]
            if len(events) < dock.RESYNC_EVENTS:
                return
            after = events[-1]["seq"]

    # --- client frames ------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.send_json({"type": "error", "error": "frames are JSON text"})
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError as exc:
            await self.send_json({"type": "error", "error": f"frame refused: {exc}"})
            return
        await self.receive_json(content)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Frames follow the API's rule for JSON (``conversations.json_input``): one nested
        without end or carrying a string no database stores is answered with what is
        wrong, instead of ending the socket or failing deep in a service."""
        return json_input.loads(text_data, max_depth=json_input.API_MAX_DEPTH)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "error": "a frame is an object with a type"})
            return
        request_id = content.get("id")
        kind = content["type"]
        handler = self.COMMANDS.get(kind)
        if handler is None:
            await self.send_json(
                {"type": "error", "id": request_id, "error": f"unknown frame type {kind!r}"}
            )
            return
        # Were the sign-out message lost, the member's next command still finds them gone.
        if not await self._still_signed_in():
            await self.close(code=CLOSE_SIGNED_OUT)
            return
        try:
            result = await handler(self, content)
        except CommandError as exc:
            await self._reply(kind, request_id, error=str(exc))
        except messaging.ConversationClosed as exc:
            await self._reply(kind, request_id, error=str(exc))
        except offers.OfferGone as exc:
            await self._reply(kind, request_id, error=str(exc), code="offer_gone")
        except messaging.OutsideServiceWindow as exc:
            await self._reply(
                kind,
                request_id,
                error=str(exc)
                or "The customer last wrote more than 24 hours ago: WhatsApp allows only "
                "template messages until they write again.",
                code="outside_service_window",
            )
        except (ValidationError, PermissionDenied, ObjectDoesNotExist, ValueError) as exc:
            await self._reply(kind, request_id, error=_message_of(exc))
        except Exception:
            logger.exception("dock command failed", extra={"command": kind})
            await self._reply(kind, request_id, error="That did not work; please try again.")
        else:
            if result is not None:
                await self._reply(kind, request_id, data=result)

    async def _reply(
        self,
        kind: str,
        request_id: Any,
        *,
        data: dict[str, Any] | None = None,
        error: str | None = None,
        code: str | None = None,
    ) -> None:
        frame: dict[str, Any] = {"type": "reply", "command": kind, "id": request_id}
        if error is None:
            frame.update(ok=True, data=data or {})
        else:
            frame.update(ok=False, error=error)
            if code:
                frame["code"] = code
        await self.send_json(frame)

    async def _presence_call(self, service: Callable[..., None]) -> None:
        """Tell presence this dock connected, beat or left."""
        assert self.member is not None
        try:
            await database_sync_to_async(service)(member=self.member)
        except Exception:
            # Presence is best effort here: a failed beat must not cost the agent their
            # open dock; the next one tries again.
            logger.warning(
                "dock presence update failed",
                extra={"member": self.member.pk, "call": service.__name__},
            )

    # --- commands -----------------------------------------------------------------------

    async def cmd_resync(self, content: dict[str, Any]) -> dict[str, Any] | None:
        """The events after ``after``, in as many frames as keep each within the frame
        bound (``more`` on all but the last). Past ``RESYNC_EVENTS`` of them the answer
        is ``snapshot: true``: the dock takes the snapshot it connected with, and the
        events after it reach it live as ever."""
        after = content.get("after")
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise CommandError("after must be the last seq the client saw")
        assert self.member is not None
        request_id = content.get("id")
        events = await database_sync_to_async(realtime.events_after)(
            membership_id=self.member.pk, after=after, limit=dock.RESYNC_EVENTS + 1
        )
        if len(events) > dock.RESYNC_EVENTS:
            await self.send_json(
                {
                    "type": "resync",
                    "id": request_id,
                    "after": after,
                    "events": [],
                    "more": False,
                    "snapshot": True,
                }
            )
            return None
        for frame in dock.resync_frames(request_id=request_id, after=after, events=events):
            await self.send_json(frame)
        if events:
            self.sent_seq = max(self.sent_seq, events[-1]["seq"])
        return None

    async def cmd_heartbeat(self, content: dict[str, Any]) -> dict[str, Any] | None:
        await self._presence_call(presence_services.dock_heartbeat)
        return None

    async def cmd_presence_set(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._presence_set)(content)

    def _presence_set(self, content: dict[str, Any]) -> dict[str, Any]:
        """Available, Busy (with an optional reason of the organization's: its id or
        name) or Offline."""
        status = content.get("status")
        if status not in PresenceStatus.values:
            raise CommandError("status must be available, busy or offline")
        assert self.member is not None
        reason = None
        if content.get("reason") is not None:
            reason = presence_services.busy_reason_find(
                organization_id=self.member.organization_id, value=content["reason"]
            )
        presence = presence_services.presence_set(
            member=self.member, status=status, source="dock", reason=reason
        )
        return {"presence": presence_payload(member_id=self.member.pk, presence=presence)}

    async def cmd_thread_load(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._thread_load)(content)

    def _thread_load(self, content: dict[str, Any]) -> dict[str, Any]:
        """A page of the thread that fits, with the reply around it, in one frame."""
        assert self.member is not None
        conversation = _conversation(self.member, content)
        before = content.get("before")
        if before is not None and not isinstance(before, str):
            raise CommandError("before must be a cursor thread.load gave")
        reply = {"type": "reply", "command": "thread.load", "id": content.get("id"), "ok": True}
        return dock.dock_thread(
            member=self.member,
            conversation_id=conversation.pk,
            before=before,
            room=dock.frame_room({**reply, "data": None}),
        )

    async def cmd_thread_read(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._thread_read)(content)

    def _thread_read(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.member is not None
        conversation = _conversation(self.member, content)
        messaging.conversation_mark_read(conversation=conversation, member=self.member)
        return {"conversation": conversation.pk}

    async def cmd_message_send(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._message_send)(content)

    def _message_send(self, content: dict[str, Any]) -> dict[str, Any]:
        """A text, or ``template: {name, language, parameters}``."""
        assert self.member is not None
        conversation = _conversation(self.member, content)
        if "template" in content:
            name, language, parameters = _template(content.get("template"))
            message = messaging.message_send_template(
                conversation=conversation,
                sender=self.member,
                name=name,
                language=language,
                parameters=parameters,
            )
            return {"message": message_payload(message)}
        text = _text(content, "text", limit=messaging.MAX_TEXT_LENGTH, required=True)
        message = messaging.message_send_text(
            conversation=conversation, sender=self.member, text=text
        )
        return {"message": message_payload(message)}

    async def cmd_templates_list(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._templates_list)(content)

    def _templates_list(self, content: dict[str, Any]) -> dict[str, Any]:
        """The approved templates of the conversation's number, for the composer."""
        assert self.member is not None
        conversation = _conversation(self.member, content)
        return {
            "conversation": conversation.pk,
            "templates": dock.dock_templates(channel=conversation.channel),
        }

    async def cmd_typing(self, content: dict[str, Any]) -> None:
        """The agent types: the customer may be shown so (throttled, sent by a task)."""
        await database_sync_to_async(self._typing)(content)

    def _typing(self, content: dict[str, Any]) -> None:
        assert self.member is not None
        conversation = _conversation(self.member, content)
        if conversation.agent_id == self.member.pk and messaging.service_window_open(
            conversation=conversation
        ):
            receipts.conversation_typing(conversation=conversation)

    async def cmd_note_add(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._note_add)(content)

    def _note_add(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.member is not None
        conversation = _conversation(self.member, content)
        text = _text(content, "text", limit=messaging.MAX_TEXT_LENGTH, required=True)
        note = messaging.message_add_note(conversation=conversation, author=self.member, text=text)
        return {"message": message_payload(note)}

    async def cmd_quick_replies_list(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._quick_replies_list)(content)

    def _quick_replies_list(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.member is not None
        return {"quick_replies": dock.quick_replies(member=self.member)}

    async def cmd_conversations_search(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._conversations_search)(content)

    def _conversations_search(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.member is not None
        text = _text(content, "query", limit=MAX_SEARCH, required=False)
        return {"query": text, "conversations": dock.dock_search(member=self.member, text=text)}

    async def cmd_transcript_load(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._transcript_load)(content)

    def _transcript_load(self, content: dict[str, Any]) -> dict[str, Any]:
        """A page of a conversation's transcript, read-only: one of the member's own, or
        an earlier one of a customer they work with (``selectors.readable_conversations``)."""
        assert self.member is not None
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            raise CommandError("conversation must be a conversation id")
        before = content.get("before")
        if before is not None and not isinstance(before, str):
            raise CommandError("before must be a cursor transcript.load gave")
        reply = {"type": "reply", "command": "transcript.load", "id": content.get("id"), "ok": True}
        try:
            return dock.dock_thread(
                member=self.member,
                conversation_id=conversation_id,
                before=before,
                room=dock.frame_room({**reply, "data": None}),
                transcript=True,
            )
        except Conversation.DoesNotExist as exc:
            raise CommandError("no such conversation") from exc

    async def cmd_conversation_close(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._conversation_close)(content)

    def _conversation_close(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.member is not None
        conversation = _conversation(self.member, content)
        outcome = _text(content, "outcome", limit=MAX_OUTCOME, required=True)
        closed = services.conversation_close(
            conversation=conversation, actor=self.member, outcome=outcome
        )
        return {"conversation": conversation_payload(closed or conversation)}

    async def cmd_conversation_transfer(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._conversation_transfer)(content)

    def _conversation_transfer(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.member is not None
        conversation = _conversation(self.member, content)
        note = _text(content, "note", limit=1000, required=False)
        skill = _text(content, "skill", limit=64, required=False) or None
        agent_id = content.get("agent")
        to_agent = None
        if agent_id is not None:
            if not isinstance(agent_id, int) or isinstance(agent_id, bool):
                raise CommandError("agent must be a member id")
            to_agent = (
                selectors.member_members(member=self.member)
                .filter(pk=agent_id, role__in=[Role.AGENT, Role.SUPERVISOR])
                .first()
            )
            if to_agent is None:
                raise CommandError("no such agent")
            if skill:
                raise CommandError("transfer to an agent or to the queue with a skill, not both")
        wait = content.get("wait")
        if wait is not None and not isinstance(wait, bool):
            raise CommandError("wait must be true or false")
        moved = services.conversation_transfer(
            conversation=conversation,
            actor=self.member,
            to_agent=to_agent,
            skill=skill,
            note=note,
            wait=wait,
        )
        return {"conversation": conversation_payload(moved or conversation)}

    async def cmd_agents_available(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._agents_available)(content)

    def _agents_available(self, content: dict[str, Any]) -> dict[str, Any]:
        assert self.member is not None
        conversation = _conversation(self.member, content) if "conversation" in content else None
        return {
            "agents": dock.transfer_candidates(member=self.member, conversation=conversation),
            "skills": dock.known_skills(member=self.member),
        }

    async def cmd_offer_accept(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._offer_answer)(content, offers.offer_accept)

    async def cmd_offer_decline(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._offer_answer)(content, offers.offer_decline)

    def _offer_answer(
        self, content: dict[str, Any], service: Callable[..., Conversation]
    ) -> dict[str, Any]:
        """Accept or decline the chat offered to this member (``routing.offers``)."""
        assert self.member is not None
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            raise CommandError("conversation must be a conversation id")
        answered = service(conversation_id=conversation_id, member=self.member)
        return {"conversation": conversation_payload(answered)}

    async def cmd_conversation_language(self, content: dict[str, Any]) -> dict[str, Any]:
        return await database_sync_to_async(self._conversation_language)(content)

    def _conversation_language(self, content: dict[str, Any]) -> dict[str, Any]:
        """Correct a chat's language; a queued chat is routed again with it."""
        assert self.member is not None
        conversation = _conversation(self.member, content)
        language = _text(content, "language", limit=16, required=True)
        changed = services.conversation_update(
            conversation=conversation, actor=self.member, language=language
        )
        return {"conversation": conversation_payload(changed)}

    COMMANDS: dict[str, Callable[[DockConsumer, dict[str, Any]], Awaitable[Any]]] = {
        "resync": cmd_resync,
        "heartbeat": cmd_heartbeat,
        "presence.set": cmd_presence_set,
        "thread.load": cmd_thread_load,
        "thread.read": cmd_thread_read,
        "message.send": cmd_message_send,
        "templates.list": cmd_templates_list,
        "typing": cmd_typing,
        "note.add": cmd_note_add,
        "quick_replies.list": cmd_quick_replies_list,
        "conversations.search": cmd_conversations_search,
        "transcript.load": cmd_transcript_load,
        "conversation.close": cmd_conversation_close,
        "conversation.transfer": cmd_conversation_transfer,
        "agents.available": cmd_agents_available,
        "offer.accept": cmd_offer_accept,
        "offer.decline": cmd_offer_decline,
        "conversation.language": cmd_conversation_language,
    }


def _template(value: Any) -> tuple[str, str, list[Any]]:
    """A template frame's name, language and parameters, as the service takes them."""
    if not isinstance(value, dict):
        raise CommandError("template must be an object with name, language and parameters")
    name = _text(value, "name", limit=512, required=True)
    language = _text(value, "language", limit=16, required=True)
    parameters = value.get("parameters") or []
    if not isinstance(parameters, list) or len(parameters) > 100:
        raise CommandError("template parameters must be a list of texts")
    return name, language, parameters


def _message_of(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) or "not allowed"
