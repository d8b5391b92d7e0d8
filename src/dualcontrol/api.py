"""The REST API (Django Ninja): /api/, OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI
from ninja.security import django_auth

from dualcontrol.accounts.api import BearerAuth
from dualcontrol.accounts.api import router as auth_router
from dualcontrol.assessment.api import router as assessment_router
from dualcontrol.entities.api import router as entities_router
from dualcontrol.metering.api import router as metering_router
from dualcontrol.monitoring.api import router as monitoring_router
from dualcontrol.projects.api import router as projects_router
from dualcontrol.publishing.api import router as public_router
from dualcontrol.reporting.api import router as reporting_router
from dualcontrol.targets.api import router as targets_router
from dualcontrol.tasks.api import router as tasks_router

api = NinjaAPI(
    title="dualcontrol API",
    version="1",
    description="节能减排目标责任管理平台 REST API. Authenticate with a bearer token from POST /api/auth/token, or a session.",
    auth=[BearerAuth(), django_auth],
    urls_namespace="api",
)
api.add_router("/auth", auth_router)
api.add_router("/entities", entities_router)
api.add_router("/reports", reporting_router)
api.add_router("/targets", targets_router)
api.add_router("/metering", metering_router)
api.add_router("/tasks", tasks_router)
api.add_router("/monitoring", monitoring_router)
api.add_router("/projects", projects_router)
api.add_router("/assessment", assessment_router)
api.add_router("/public", public_router)
