from django.urls import path

from routing import views

urlpatterns = [path("supervision/", views.supervision, name="supervision")]
