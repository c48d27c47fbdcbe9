"""The supervision board (being built: see the supervision issue)."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@permission_required("conversations.supervise")
def supervision(request: HttpRequest) -> HttpResponse:
    return render(request, "supervision/board.html")
