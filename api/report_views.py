"""REST API v1: the summary report of a period and the staffing planner."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import SUPERVISORS, ScopedAPIView
from conversations import selectors
from conversations.models import Project
from reports import erlang, replay, summary
from reports.periods import BadParameter, Period, period_from

# The longest period a replay walks through, event by event.
REPLAY_MAX_DAYS = 31


class CSVRenderer(BaseRenderer):
    """``?format=csv`` (or ``Accept: text/csv``): the view hands over the CSV text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return str(data).encode(self.charset)


def _period(raw_from: str | None, raw_to: str | None, *, prefix: str = "") -> Period:
    try:
        return period_from(raw_from, raw_to)
    except BadParameter as bad:
        raise exceptions.ValidationError({f"{prefix}{bad.param}": [bad.message]}) from None


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise serializers.ValidationError("Expected a finite number.")


class ReportQuerySerializer(serializers.Serializer):
    # ``from`` is a Python keyword: the fields are named in ``get_fields``.
    to = serializers.CharField(required=False, max_length=40, help_text="Exclusive end.")
    project = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    agent = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()
        fields["from"] = serializers.CharField(
            required=False,
            max_length=40,
            help_text="Inclusive start: a date (local midnight) or an ISO 8601 date-time.",
        )
        return fields


class FiguresSerializer(serializers.Serializer):
    conversations = serializers.IntegerField(help_text="Conversations opened in the period.")
    messages_in = serializers.IntegerField()
    messages_out = serializers.IntegerField(help_text="Sent to the customer; notes excluded.")
    first_reply_p50_seconds = serializers.FloatField(allow_null=True)
    first_reply_p90_seconds = serializers.FloatField(allow_null=True)
    handle_p50_seconds = serializers.FloatField(
        allow_null=True, help_text="First assignment to close."
    )
    sla_met_share = serializers.FloatField(
        allow_null=True, help_text="Share of first replies within the project's target."
    )
    sla_counted = serializers.IntegerField(help_text="Conversations the SLA share counts.")
    transfers = serializers.IntegerField()


class AgentFiguresSerializer(FiguresSerializer):
    agent = serializers.IntegerField(allow_null=True, help_text="Null: chats no agent took.")
    email = serializers.CharField()


class HourSerializer(serializers.Serializer):
    hour = serializers.IntegerField()
    conversations = serializers.IntegerField()
    messages_in = serializers.IntegerField()
    first_reply_p50_seconds = serializers.FloatField(allow_null=True)


class DaySerializer(serializers.Serializer):
    date = serializers.DateField()
    conversations = serializers.IntegerField()
    sla_met_share = serializers.FloatField(allow_null=True)
    sla_counted = serializers.IntegerField()


class BucketSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    from_seconds = serializers.IntegerField()
    conversations = serializers.IntegerField()


class ReportSerializer(FiguresSerializer):
    to = serializers.DateTimeField()
    timezone = serializers.CharField()
    project = serializers.IntegerField(allow_null=True)
    agent = serializers.IntegerField(allow_null=True)
    agents = AgentFiguresSerializer(many=True)
    by_hour = HourSerializer(many=True, help_text="By local hour of day the chats opened.")
    by_day = DaySerializer(many=True)
    first_reply_distribution = BucketSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()
        fields["from"] = serializers.DateTimeField()
        return fields


class ReportSummaryApi(ScopedAPIView):
    roles = {"GET": SUPERVISORS}
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="A period's conversations, replies, handling and SLA",
        description="The conversations that opened in `[from, to)` (local time, "
        "`TIME_ZONE`), of a project and an agent when given: totals, a row per agent and "
        "the series the reports page draws. `?format=csv` answers the totals and the "
        "agents' rows as CSV.",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.STR, description="Inclusive start."),
            OpenApiParameter("to", OpenApiTypes.STR, description="Exclusive end."),
            OpenApiParameter("project", OpenApiTypes.INT),
            OpenApiParameter("agent", OpenApiTypes.INT, description="A member's id."),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={
            (200, "application/json"): ReportSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
        },
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        period = _period(params.get("from"), params.get("to"))
        project_id, agent_id = params.get("project"), params.get("agent")
        if (
            project_id
            and not selectors.member_projects(member=self.member).filter(pk=project_id).exists()
        ):
            raise exceptions.ValidationError({"project": ["No such project."]})
        if (
            agent_id
            and not selectors.member_members(member=self.member).filter(pk=agent_id).exists()
        ):
            raise exceptions.ValidationError({"agent": ["No such member."]})
        report = summary.report_summary(
            member=self.member, period=period, project_id=project_id, agent_id=agent_id
        )
        if request.accepted_renderer.format == "csv":
            name = f"cxgear-report-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
            return Response(
                summary.summary_csv(report),
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(ReportSerializer(report).data)

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        """An unknown ``format`` is answered by the parameter check (a 400 naming it), in
        JSON, not by DRF's 404."""
        try:
            return super().perform_content_negotiation(request, force)  # type: ignore[no-any-return]
        except Http404:
            return JSONRenderer(), JSONRenderer.media_type

    def handle_exception(self, exc: Exception) -> Response:
        """A refusal is JSON, whatever format the report was asked in."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class ReplayInputSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=40)
    project = serializers.IntegerField(min_value=1, max_value=2**63 - 1)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()
        fields["from"] = serializers.CharField(max_length=40)
        return fields


class ForecastInputSerializer(serializers.Serializer):
    arrivals_per_hour = serializers.FloatField(
        required=False, min_value=0, max_value=10_000, validators=[_finite]
    )
    handle_minutes = serializers.FloatField(
        required=False, min_value=0.1, max_value=600, validators=[_finite]
    )
    max_open = serializers.IntegerField(required=False, min_value=1, max_value=50)
    target_wait_seconds = serializers.FloatField(
        default=60, min_value=0, max_value=86_400, validators=[_finite]
    )
    target_share = serializers.FloatField(
        default=0.8,
        min_value=0.01,
        max_value=0.99,
        validators=[_finite],
        help_text="The share to answer within the target wait, e.g. 0.8.",
    )
    replay = ReplayInputSerializer(required=False)
    agents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=200),
        required=False,
        min_length=1,
        max_length=12,
        help_text="Replay: the staffings to try.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "replay" in attrs:
            if "agents" not in attrs:
                raise serializers.ValidationError(
                    {"agents": ["A replay needs the staffings to try."]}
                )
            return attrs
        missing = [
            name
            for name in ("arrivals_per_hour", "handle_minutes", "max_open")
            if name not in attrs
        ]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required (or give `replay`)."] for name in missing}
            )
        return attrs


class StaffingSerializer(serializers.Serializer):
    agents = serializers.IntegerField()
    share_within_target = serializers.FloatField(allow_null=True)
    mean_wait_seconds = serializers.FloatField(allow_null=True)
    servers = serializers.IntegerField(required=False, help_text="Erlang C: agents * max_open.")
    wait_probability = serializers.FloatField(required=False, help_text="Erlang C.")
    never_served = serializers.IntegerField(
        required=False, help_text="Replay: chats no simulated agent could take."
    )


class RecordedSerializer(serializers.Serializer):
    agents = serializers.IntegerField(help_text="Agents who took the period's chats.")
    share_within_target = serializers.FloatField(allow_null=True)
    mean_wait_seconds = serializers.FloatField(allow_null=True)
    never_served = serializers.IntegerField()


class ForecastSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["erlang-c", "replay"])
    agents_needed = serializers.IntegerField(
        allow_null=True, help_text="The fewest agents that meet the target (null: none tried)."
    )
    staffing = StaffingSerializer(many=True)
    load_erlangs = serializers.FloatField(required=False)
    conversations = serializers.IntegerField(required=False, help_text="Replay: chats replayed.")
    recorded = RecordedSerializer(required=False, help_text="Replay: the period as it was.")


class PlanningForecastApi(ScopedAPIView):
    roles = {"POST": SUPERVISORS}

    @extend_schema(
        summary="How many agents a load needs",
        description="With `arrivals_per_hour, handle_minutes, max_open`: Erlang C with "
        "`agents * max_open` places (with `max_open` 1, the classic figures). With "
        "`replay: {from, to, project}` and `agents: [n..]`: the period's recorded chats "
        "replayed through routing's rules for each staffing.",
        request=ForecastInputSerializer,
        responses={200: ForecastSerializer},
        tags=["planning"],
    )
    def post(self, request: Request) -> Response:
        data = ForecastInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        target = {
            "target_wait_seconds": params["target_wait_seconds"],
            "target_share": params["target_share"],
        }
        if "replay" not in params:
            try:
                answer = erlang.forecast(
                    arrivals_per_hour=params["arrivals_per_hour"],
                    handle_minutes=params["handle_minutes"],
                    max_open=params["max_open"],
                    **target,
                )
            except ValueError as exc:
                raise exceptions.ValidationError({"arrivals_per_hour": [str(exc)]}) from None
            return Response(ForecastSerializer(answer).data)
        asked = params["replay"]
        period = _period(asked["from"], asked["to"], prefix="replay.")
        if (period.end - period.start).days > REPLAY_MAX_DAYS:
            raise exceptions.ValidationError(
                {"replay.to": [f"A replay covers at most {REPLAY_MAX_DAYS} days."]}
            )
        try:
            project = selectors.member_projects(member=self.member).get(pk=asked["project"])
        except Project.DoesNotExist:
            raise exceptions.ValidationError({"replay.project": ["No such project."]}) from None
        try:
            answer = replay.replay(
                organization_id=self.member.organization_id,
                project=project,
                period=period,
                staffings=params["agents"],
                **target,
            )
        except ValueError as exc:
            raise exceptions.ValidationError({"replay": [str(exc)]}) from None
        return Response(ForecastSerializer(answer).data)
