"""URL configuration: pages per app, the REST API under /api/, admin, i18n."""

from django.contrib import admin
from django.urls import include, path

from dualcontrol import uploads_annotate
from dualcontrol.accounts import views as account_views
from dualcontrol.api import api

urlpatterns = [
    path("", account_views.home, name="home"),
    path("public/", account_views.public_home, name="public-home"),
    path("accounts/", include("dualcontrol.accounts.urls")),
    path("reports/", include("dualcontrol.reporting.urls")),
    path("entities/", include("dualcontrol.entities.urls")),
    path("targets/", include("dualcontrol.targets.urls")),
    path("metering/", include("dualcontrol.metering.urls")),
    path("tasks/", include("dualcontrol.tasks.urls")),
    path("monitoring/", include("dualcontrol.monitoring.urls")),
    path("projects/", include("dualcontrol.projects.urls")),
    path("assessment/", include("dualcontrol.assessment.urls")),
    path("public/", include("dualcontrol.publishing.urls")),
    path("key-units/", include("dualcontrol.keyunits.urls")),
    path("carbon-market/", include("dualcontrol.carbonmarket.urls")),
    path("rights/", include("dualcontrol.rights.urls")),
    path("exchange/", include("dualcontrol.exchange.urls")),
    path("audit/", include("dualcontrol.audit.urls")),
    path("uploads/problems/<str:token>/", uploads_annotate.download, name="upload-problems"),
    path("jobs/", include("dualcontrol.jobs.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

admin.site.site_header = "节能减排目标责任管理平台"
admin.site.site_title = "dualcontrol"
