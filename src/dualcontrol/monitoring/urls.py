from django.urls import path

from dualcontrol.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.outlet_list, name="list"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<int:pk>/", views.alarm_detail, name="alarm"),
    path("shutdowns/", views.shutdown_list, name="shutdowns"),
    path("shutdowns/<int:pk>/review/", views.shutdown_review, name="shutdown-review"),
    path("shutdowns/<int:pk>/document/", views.shutdown_document, name="shutdown-document"),
    path("outlets/<int:pk>/shutdowns/new/", views.shutdown_new, name="shutdown-new"),
    path("outlets/new/", views.outlet_create, name="outlet-new"),
    path("outlets/<int:pk>/", views.outlet_detail, name="outlet"),
    path("outlets/<int:pk>/chart/", views.outlet_chart, name="outlet-chart"),
    path("outlets/<int:pk>/edit/", views.outlet_edit, name="outlet-edit"),
    path("outlets/<int:pk>/limits/new/", views.limit_add, name="limit-new"),
    path("outlets/<int:pk>/ranges/new/", views.range_set, name="range-new"),
]
