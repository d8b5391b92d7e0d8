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
    # the quarterly exceedance list (超标名单)
    path("exceedances/", views.exceedance_lists, name="exceedances"),
    path("exceedances/<int:year>/q<int:quarter>/", views.exceedance_detail, name="exceedance"),
    re_path(
        r"^exceedances/(?P<year>[0-9]{4})/q(?P<quarter>[1-4])/list\.(?P<fmt>pdf|xlsx|csv)$",
        views.exceedance_file,
        name="exceedance-file",
    ),
    path("manage/exceedances/", views.exceedance_desk, name="exceedance-desk"),
    path(
        "manage/exceedances/<int:year>/q<int:quarter>/",
        views.exceedance_review,
        name="exceedance-review",
    ),
    path(
        "manage/exceedances/<int:year>/q<int:quarter>/draft/",
        views.exceedance_build,
        name="exceedance-build",
    ),
    path(
        "manage/exceedances/<int:year>/q<int:quarter>/strike/",
        views.exceedance_strike,
        name="exceedance-strike",
    ),
    path(
        "manage/exceedances/<int:year>/q<int:quarter>/restore/",
        views.exceedance_restore,
        name="exceedance-restore",
    ),
    path(
        "manage/exceedances/<int:year>/q<int:quarter>/publish/",
        views.exceedance_publish,
        name="exceedance-publish",
    ),
    path(
        "manage/exceedances/<int:year>/q<int:quarter>/discard/",
        views.exceedance_discard,
        name="exceedance-discard",
    ),
]
