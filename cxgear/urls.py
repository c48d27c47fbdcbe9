from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import LoginView
from dock.views import PasswordChangeView, admin_password_change

urlpatterns = [
    path("", RedirectView.as_view(url="/dock/", permanent=False)),
    # Ahead of the admin's and Django's own: a new password ends the person's tokens,
    # other sessions and open docks (``conversations.services.user_access_update``).
    path("admin/password_change/", admin_password_change),
    path("accounts/password_change/", PasswordChangeView.as_view(), name="password_change"),
    path("admin/", admin.site.urls),
    # Ahead of Django's own: the sign-in page that answers a throttled sign-in with 429.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("api.urls")),
    path("webhooks/whatsapp/", include("channels_whatsapp.urls")),
    path("", include("dock.urls")),
]
