"""The agent's dock page (being built: see the dock issue)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def dock(request: HttpRequest) -> HttpResponse:
    return render(request, "dock/dock.html")
