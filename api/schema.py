"""The OpenAPI description of the API's error answers, added to every operation.

drf-spectacular documents what a view returns when it succeeds; integrators also need
the shape of each refusal, and schema-driven tests check that every status a view can
answer is written down."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter

ERROR_SCHEMA = {
    "type": "object",
    "description": "A refusal that concerns the whole request.",
    "properties": {"detail": {"type": "string", "description": "What is wrong."}},
    "required": ["detail"],
}
# DRF names each invalid field with its problems; a refusal that concerns the request as a
# whole comes as ``detail`` or ``non_field_errors``.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Each key names an invalid field (or `detail`, `non_field_errors`) "
    "and holds what is wrong with it.",
    "additionalProperties": {},
}

ERROR_DESCRIPTIONS = {
    "400": "The request is invalid; the body names each wrong field.",
    "401": "No valid credentials were given.",
    "403": "The caller's role (or lack of a membership) does not allow this.",
    "404": "No such object in the caller's organization.",
    "409": "The object's current state does not allow this (or, for a POST, the first "
    "request with the same `Idempotency-Key` is still running).",
    "422": "This `Idempotency-Key` was used already with another request (method, path or "
    "body): a key names one request.",
    "429": "Too many failed sign-ins for this e-mail (or from this address) within the "
    "window: refused, the right password included, until the window passes; `Retry-After` "
    "says in how many seconds.",
}
RATE_LIMITED = (
    "Over this token's request limit (`API_RATE_PER_MINUTE`, and `API_WRITE_RATE_PER_MINUTE` "
    "for writes): `Retry-After` says in how many seconds to try again."
)
IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Makes a retried POST safe: the same key and body again answer the first "
    "result (same status and body) and do nothing twice; the same key with another body "
    "is 422; while the first is still running a retry waits for it. A key is remembered "
    "24 hours, per token.",
)


class ApiAutoSchema(AutoSchema):
    """Adds the error answers each operation can give.

    A view sets ``conflict_possible = True`` where the services may refuse because of an
    object's state (409), ``throttled_possible = True`` where the sign-in throttle may
    refuse (429)."""

    def get_tags(self) -> list[str]:
        # Group by the first segment after the version: projects, members, conversations...
        tags = getattr(self.view, "schema_tags", None)
        if tags:
            return list(tags)
        segments = [s for s in self.path.split("/") if s]
        return [segments[2]] if len(segments) > 2 else super().get_tags()

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and any(self.get_auth()):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref  # type: ignore[no-any-return]

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        error = self._component("Error", ERROR_SCHEMA)
        invalid = self._component("ValidationError", VALIDATION_ERROR_SCHEMA)
        codes: dict[str, dict[str, Any]] = {}
        has_query = bool(self._get_parameters()) and any(
            p.get("in") == "query" for p in self._get_parameters()
        )
        if self.method in ("POST", "PUT", "PATCH") or has_query:
            codes["400"] = invalid
        authenticated = any(self.get_auth())  # ``[{}]`` means anyone may call it
        if authenticated:
            codes["401"] = error
            codes["403"] = error
            codes["429"] = error
        if authenticated and self.method == "POST":
            codes["409"] = error  # a retry whose key's first request still runs
            codes["422"] = error
        if "{" in self.path:
            codes["404"] = error
        if getattr(self.view, "conflict_possible", False) and self.method != "GET":
            codes["409"] = error
        if getattr(self.view, "throttled_possible", False):
            codes["429"] = error
        for code, schema in codes.items():
            description = ERROR_DESCRIPTIONS[code]
            if code == "429" and authenticated:
                description = RATE_LIMITED
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": schema}},
                },
            )
        return responses
