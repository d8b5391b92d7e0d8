from django.urls import path

from dualcontrol.carbonmarket import views

app_name = "carbonmarket"
urlpatterns = [
    path("", views.home, name="home"),
    path("emitters/", views.emitters, name="emitters"),
    path("units/<int:pk>/", views.unit, name="unit"),
    path("reports/", views.reports, name="reports"),
    path("reports/edit/", views.report_edit, name="report-edit"),
    path("reports/<int:pk>/", views.report, name="report"),
    path("allocation/", views.allocation, name="allocation"),
    path("compliance/", views.compliance_latest, name="compliance-latest"),
    path("compliance/<int:year>/", views.compliance, name="compliance"),
    path("ledger/", views.ledger_page, name="ledger"),
    path("ledger/<int:seq>/correct/", views.correct, name="correct"),
    path("public/", views.public_compliance, name="public"),
    path("public/<int:year>/", views.public_compliance, name="public-year"),
]
