from django.urls import path

from dualcontrol.targets import views

app_name = "targets"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("list/", views.target_list, name="list"),
    path("new/", views.target_form, name="new"),
    path("<int:pk>/", views.target_detail, name="detail"),
    path("<int:pk>/edit/", views.target_form, name="edit"),
    path("<int:pk>/decompose/", views.workbench, name="workbench"),
    path("<int:pk>/allocate/", views.allocate, name="allocate"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/drilldown/", views.drilldown, name="drilldown"),
    path("<int:pk>/letter/", views.letter_generate, name="letter-generate"),
    path("letters/", views.letter_list, name="letters"),
    path("letters/<int:pk>/", views.letter_detail, name="letter"),
    path("letters/<int:pk>/sign/", views.letter_sign, name="letter-sign"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/run/", views.warning_run, name="warnings-run"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/read/", views.alert_read, name="alert-read"),
    path("statistics/", views.statistics, name="statistics"),
    path("geo/<str:code>.json", views.geojson, name="geojson"),
]
