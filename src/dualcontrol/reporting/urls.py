from django.urls import path

from dualcontrol.reporting import views

app_name = "reporting"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("review/", views.review, name="review"),
    path("new/", views.report_form, name="new"),
    path("upload/", views.upload, name="upload"),
    path("template.xlsx", views.template_xlsx, name="template"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/edit/", views.report_form, name="edit"),
    path("<int:pk>/<str:verb>/", views.action, name="action"),
]
