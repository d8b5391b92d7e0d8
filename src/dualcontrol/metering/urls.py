from django.urls import path

from dualcontrol.metering import views

app_name = "metering"
urlpatterns = [
    path("", views.unit_list, name="list"),
    path("alerts/", views.alerts, name="alerts"),
    path("faults/", views.faults, name="faults"),
    path("faults/<int:pk>/<str:verb>/", views.fault_action, name="fault-action"),
    path("units/<str:uscc>/", views.unit_detail, name="unit"),
    path("units/<str:uscc>/registry/", views.registry, name="registry"),
    path("units/<str:uscc>/reconciliation/", views.reconciliation, name="reconciliation"),
    path("units/<str:uscc>/faults/new/", views.fault_new, name="fault-new"),
    path("units/<str:uscc>/manual/", views.manual, name="manual"),
    path("units/<str:uscc>/batches/", views.batches, name="batches"),
]
