from django.urls import path, re_path

from dualcontrol.publishing import views

app_name = "publishing"
urlpatterns = [
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/<int:year>/", views.bulletin_detail, name="bulletin"),
    re_path(
        r"^bulletins/(?P<year>[0-9]{4})/bulletin\.(?P<fmt>pdf|xlsx|csv)$",
        views.bulletin_file,
        name="bulletin-file",
    ),
    path("results/", views.results_list, name="results"),
    path("results/<int:pk>/", views.publication_detail, name="publication"),
    path("manage/", views.manage, name="manage"),
    path("manage/preview/<int:year>/", views.preview, name="preview"),
    path("manage/bulletins/<int:year>/publish/", views.publish_bulletin, name="publish-bulletin"),
    path("manage/rounds/<int:pk>/publish/", views.publish_results, name="publish-results"),
    path("manage/publications/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
