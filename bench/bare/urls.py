from django.urls import path

from . import views

urlpatterns = [path("sync/", views.sync_view), path("async/", views.async_view)]
