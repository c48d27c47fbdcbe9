from django.urls import path

from routing import views

urlpatterns = [
    path("supervision/", views.supervision, name="supervision"),
    path(
        "supervision/conversations/<int:pk>/",
        views.conversation_detail,
        name="supervision-conversation",
    ),
    path(
        "supervision/members/<int:pk>/offline/",
        views.member_offline,
        name="supervision-member-offline",
    ),
]
