"""The REST API (Django Ninja): /api/, OpenAPI at /api/openapi.json, docs at /api/docs."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.security import django_auth

from dualcontrol.accounts import throttling
from dualcontrol.accounts.api import BearerAuth
from dualcontrol.accounts.api import router as auth_router
from dualcontrol.assessment.api import router as assessment_router
from dualcontrol.carbonmarket.api import router as carbonmarket_router
from dualcontrol.entities.api import router as entities_router
from dualcontrol.exchange.api import router as exchange_router
from dualcontrol.keyunits.api import router as keyunits_router
from dualcontrol.metering.api import router as metering_router
from dualcontrol.monitoring.api import router as monitoring_router
from dualcontrol.projects.api import router as projects_router
from dualcontrol.publishing.api import manage_router as publishing_router
from dualcontrol.publishing.api import router as public_router
from dualcontrol.reporting.api import router as reporting_router
from dualcontrol.reporting.statistics_api import router as statistics_reports_router
from dualcontrol.rights.api import router as rights_router
from dualcontrol.targets.api import router as targets_router
from dualcontrol.tasks.api import router as tasks_router


class LocalSwagger(Swagger):
    """Swagger UI served from ``static/vendor/`` (npm swagger-ui-dist, ``make vendor``).

    Ninja's viewer loads Swagger UI from a CDN unless ``ninja`` is an installed app, and then
    serves the copy bundled in its wheel; the platform serves its own front-end libraries from
    npm instead (one place, licences beside them), so the page stays usable on offline intranets.
    """

    template = "api/docs.html"
    # the validator badge would fetch an image from validator.swagger.io
    default_settings = {**Swagger.default_settings, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        auth = api.auth if isinstance(api.auth, list | tuple) else []
        csrf = get_token(request) if any(getattr(a, "csrf", False) for a in auth) else None
        return render(
            request, self.template, {"swagger_settings": settings, "api": api, "csrf": csrf}
        )


api = NinjaAPI(
    title="dualcontrol API",
    version="1",
    description="节能减排目标责任管理平台 REST API. Authenticate with a bearer token from POST /api/auth/token, or a session.",
    auth=[BearerAuth(), django_auth],
    urls_namespace="api",
    docs=LocalSwagger(),
    # rate limits of reference/data/login_policy.yaml (per address / per user)
    throttle=throttling.api_throttles(),
)
throttling.install(api)
# the token endpoint also has a stricter per-address limit (on top of the login lockout)
api.add_router("/auth", auth_router, throttle=throttling.login_throttles())
api.add_router("/entities", entities_router)
api.add_router("/reports/statistics", statistics_reports_router)
api.add_router("/reports", reporting_router)
api.add_router("/targets", targets_router)
api.add_router("/metering", metering_router)
api.add_router("/tasks", tasks_router)
api.add_router("/monitoring", monitoring_router)
api.add_router("/projects", projects_router)
api.add_router("/assessment", assessment_router)
api.add_router("/public", public_router)
api.add_router("/publishing", publishing_router)
api.add_router("/key-units", keyunits_router)
api.add_router("/carbon-market", carbonmarket_router)
api.add_router("/rights", rights_router)
api.add_router("/exchange", exchange_router)
