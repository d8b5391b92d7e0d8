from django.urls import path

from dualcontrol.keyunits import views

app_name = "keyunits"
urlpatterns = [
    path("", views.home, name="home"),
    path("propose/", views.propose, name="propose"),
    path("designations/<int:pk>/decide/", views.decide, name="decide"),
    path("compute/", views.compute, name="compute"),
    path("units/<int:pk>/", views.unit, name="unit"),
    path("units/<int:pk>/audit/", views.order_audit, name="order-audit"),
    path("manager/", views.manager, name="manager"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/submit/", views.report_submit, name="report-submit"),
    path("file/", views.file_report, name="file"),
    path("upload/", views.upload_report, name="upload"),
    path("template.xlsx", views.template, name="template"),
    path("lists/", views.lists, name="lists"),
    path("lists/<str:kind>/", views.list_page, name="list"),
    path("shares/", views.shares, name="shares"),
    path("audits/", views.audits, name="audits"),
    path("audits/<int:pk>/", views.audit_detail, name="audit"),
]
