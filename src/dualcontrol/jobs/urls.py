from django.urls import path

from dualcontrol.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/download/", views.job_download, name="download"),
    path("outbox/<int:pk>/retry/", views.outbox_retry, name="outbox-retry"),
]
