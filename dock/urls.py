from django.urls import path

from dock import reports, supervision, views

urlpatterns = [
    path("dock/", views.dock, name="dock"),
    path("supervision/", supervision.supervision, name="supervision"),
    path("supervision/reports/", reports.reports, name="supervision-reports"),
    path("supervision/planning/", reports.planning, name="supervision-planning"),
    path(
        "supervision/conversations/<int:pk>/",
        supervision.conversation_detail,
        name="supervision-conversation",
    ),
    path(
        "supervision/conversations/<int:pk>/candidates/",
        supervision.conversation_candidates,
        name="supervision-conversation-candidates",
    ),
    path("supervision/sla/", supervision.board_sla, name="supervision-sla"),
    path(
        "supervision/members/<int:pk>/offline/",
        supervision.member_offline,
        name="supervision-member-offline",
    ),
]
