from django.urls import path

from channels_whatsapp import views

urlpatterns = [
    path("<str:channel_key>/", views.webhook, name="whatsapp-webhook"),
]
