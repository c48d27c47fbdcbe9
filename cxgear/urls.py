from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import LoginView

urlpatterns = [
    path("", RedirectView.as_view(url="/dock/", permanent=False)),
    path("admin/", admin.site.urls),
    # Ahead of Django's own: the sign-in page that answers a throttled sign-in with 429.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("cxgear.api_urls")),
    path("webhooks/whatsapp/", include("channels_whatsapp.urls")),
    path("", include("conversations.urls")),
    path("", include("routing.urls")),
]
