"""POST /api/auth/token: username + password → bearer token; BearerAuth for every endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from dualcontrol.accounts.models import ApiToken, hash_token
from dualcontrol.audit.services import record
from dualcontrol.reference import load_yaml

router = Router(tags=["auth"])


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = ApiToken.objects.select_related("user").filter(key_hash=hash_token(token)).first()
        if found is None or found.expires < timezone.now() or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used=timezone.now())
        request.user = found.user
        return found.user


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    token_type: str = "bearer"
    expires: dt.datetime
    role: str


@router.post("/token", auth=None, response=TokenOut)
def issue_token(request: HttpRequest, payload: TokenIn) -> dict[str, Any]:
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        raise HttpError(401, "invalid username or password")
    _, rule = load_yaml("api_tokens.yaml")
    raw = ApiToken.new_key()
    expires = timezone.now() + dt.timedelta(hours=int(rule["lifetime_hours"]))
    token = ApiToken.objects.create(
        user=user, key_hash=hash_token(raw), prefix=raw[:8], expires=expires
    )
    record(
        actor=user,
        action="api_token.issue",
        obj=token,
        after={"prefix": token.prefix, "expires": expires.isoformat()},
    )
    return {"token": raw, "expires": expires, "role": user.role}
