from django.urls import path

from conversations import views

urlpatterns = [path("dock/", views.dock, name="dock")]
