from django.urls import path

from dualcontrol.reporting import statistics_views, views

app_name = "reporting"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("review/", views.review, name="review"),
    path("new/", views.report_form, name="new"),
    path("upload/", views.upload, name="upload"),
    path("template.xlsx", views.template_xlsx, name="template"),
    path("statistics/", statistics_views.filing_list, name="statistics"),
    path("statistics/review/", statistics_views.review_list, name="statistics_review"),
    path("statistics/new/", statistics_views.filing_new, name="statistics_new"),
    path("statistics/<int:pk>/", statistics_views.filing_detail, name="statistics_detail"),
    path("statistics/<int:pk>/edit/", statistics_views.filing_edit, name="statistics_edit"),
    path(
        "statistics/<int:pk>/<str:verb>/",
        statistics_views.filing_action,
        name="statistics_action",
    ),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/edit/", views.report_form, name="edit"),
    path("<int:pk>/<str:verb>/", views.action, name="action"),
]
