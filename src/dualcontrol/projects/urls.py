from django.urls import path

from dualcontrol.projects import views, views_investment

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="new"),
    path("ledger/", views.ledger_page, name="ledger"),
    path("ledger/<str:code>/", views.region_page, name="region"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/read/", views.alert_read, name="alert-read"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("investments/", views_investment.investment_list, name="investments"),
    path("investments/new/", views_investment.investment_new, name="investment-new"),
    path("investments/<int:pk>/", views_investment.investment_detail, name="investment"),
    path("elimination/", views_investment.elimination_page, name="elimination"),
    path("scenario/", views_investment.scenario_page, name="scenario"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/progress/", views.project_progress, name="progress"),
    path("<int:pk>/evidence/new/", views.evidence_upload, name="evidence-new"),
    path("<int:pk>/verify/", views.project_verify, name="verify"),
]
