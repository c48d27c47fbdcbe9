"""The integrators' REST API, ``/api/v1/``, and its OpenAPI schema."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api.permissions import api_not_found
from api.presence_views import MeApi, MePresenceApi, SupervisionAgentsApi, SupervisionQueueApi
from api.report_views import PlanningForecastApi, ReportSummaryApi
from api.views import (
    ConversationViewSet,
    MediaApi,
    MemberViewSet,
    ProjectViewSet,
    QuickReplyViewSet,
    TokenApi,
)
from api.webhook_views import WebhookSubscriptionViewSet
from api.whatsapp_views import WhatsAppChannelViewSet

router = SimpleRouter(use_regex_path=False)
router.register("projects", ProjectViewSet, basename="project")
router.register("channels/whatsapp", WhatsAppChannelViewSet, basename="whatsapp-channel")
router.register("members", MemberViewSet, basename="member")
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("quick-replies", QuickReplyViewSet, basename="quick-reply")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")

v1 = [
    path("auth/token/", TokenApi.as_view(), name="api-token"),
    path("me/", MeApi.as_view(), name="api-me"),
    path("me/presence/", MePresenceApi.as_view(), name="api-me-presence"),
    path("supervision/agents/", SupervisionAgentsApi.as_view(), name="api-supervision-agents"),
    path("supervision/queue/", SupervisionQueueApi.as_view(), name="api-supervision-queue"),
    path("media/<int:pk>/", MediaApi.as_view(), name="api-media"),
    path("reports/summary/", ReportSummaryApi.as_view(), name="api-reports-summary"),
    path("planning/forecast/", PlanningForecastApi.as_view(), name="api-planning-forecast"),
    *router.urls,
    # Anything else under v1 answers a JSON 404, not the site's HTML page.
    re_path(r"^[\s\S]*\Z", api_not_found),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its script comes from a URL of its own, its styles from a static file: the page
    # keeps to the site's Content-Security-Policy (no inline script or style).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("v1/", include(v1)),
]
