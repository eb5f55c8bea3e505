"""Who is calling the LAN API: a user logged in on a terminal (session token), or an operator.

Users log in with login and password or with their personal barcode; the registry checks them
(``user.authenticate``) and answers with the user's groups. The LAN writer then issues a random
session token, stores only its hash with an expiry, and knows the user's groups from it until
the next log-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ConfigDict, Field

from services.lan_writer import repository as repo
from services.lan_writer.parts import lan_parts
from shared.clock import now as _now
from shared.contracts import registry_rpc as registry
from shared.contracts.absent import NullMeansAbsent
from shared.contracts.registry_rpc import Registry
from shared.errors import Refusal
from shared.http import HttpCaller, check_admin_token
from shared.metrics import LAN_LOGINS
from shared.security import hash_token, new_token
from shared.service import Runtime, RuntimeDep

bearer = HTTPBearer(auto_error=False, description="LAN session token or admin token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


class LoginRequest(NullMeansAbsent):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tenant: str = Field(min_length=1, max_length=64, description="the base to log in to")
    login: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, max_length=200)
    barcode: str | None = Field(default=None, min_length=1, max_length=200)
    device_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the terminal logged in on; documents addressed to it are listed too",
    )


@dataclass(frozen=True)
class LanUser:
    tenant: str
    login: str
    name: str
    groups: tuple[str, ...]
    device_id: str | None

    @property
    def assignee_keys(self) -> list[str]:
        return repo.keys_for(self.login, list(self.groups), self.device_id)


def _credentials(body: LoginRequest) -> registry.Credentials:
    if body.barcode is not None and body.login is None and body.password is None:
        return registry.Credentials(barcode=body.barcode)
    if body.barcode is None and body.login is not None and body.password:
        return registry.Credentials(login=body.login, password=body.password)
    raise Refusal("lan_credentials_missing", 422)


async def _check_device(rt: Runtime, tenant: str, device_id: str) -> None:
    by_device = registry.ByDevice(device_id=device_id)
    device = await Registry(HttpCaller(rt.rpc), tenant).get_device(by_device)
    if device is None or device.status != "active":
        raise Refusal("device_not_found", 422)


async def log_in(rt: Runtime, body: LoginRequest) -> tuple[str, repo.LanSession]:
    """Check the user with the registry and open a session; returns the token and the session."""
    credentials = _credentials(body)
    limit = lan_parts(rt).login_limit
    # Guessing a password is limited per user name; guessing badges, per base. The attempt is
    # counted before it is checked, so a burst cannot outrun the count; a success gives it back.
    reservation = await limit.reserve(f"{body.tenant}\x00{credentials.login or ''}")
    if reservation.retry_after is not None:
        LAN_LOGINS.labels("limited").inc()
        raise Refusal("too_many_login_attempts", 429, retry_after=reservation.retry_after)
    try:
        user = await Registry(HttpCaller(rt.rpc), body.tenant).authenticate_user(credentials)
    except Refusal as refusal:
        if refusal.code != "unauthorized":
            await limit.give_back(reservation)  # not a guess that was answered
            raise
        LAN_LOGINS.labels("refused").inc()
        raise Refusal("lan_login_failed", 401) from None
    await limit.give_back(reservation)
    if body.device_id is not None:
        await _check_device(rt, body.tenant, body.device_id)
    token = new_token("lan")
    now = _now()
    session = repo.LanSession(
        id=hash_token(token),
        tenant=body.tenant,
        login=user.login,
        name=user.name,
        groups=tuple(user.groups),
        device_id=body.device_id,
        created_at=now.isoformat(),
        expires_at=(now + timedelta(hours=rt.settings.lan_session_hours)).isoformat(),
    )
    await repo.open_session(rt.store, session)
    await _forget_expired(rt, body.tenant, session.login, now)
    LAN_LOGINS.labels("ok").inc()
    return token, session


async def _forget_expired(rt: Runtime, tenant: str, login: str, now: datetime) -> None:
    """Sessions nobody ended are dropped when their user logs in again."""
    for old in await repo.sessions_of(rt.store, tenant, login):
        if datetime.fromisoformat(old.expires_at) <= now:
            await repo.end_session(rt.store, old.id)


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials.strip():
        raise Refusal("lan_session_invalid", 401)
    return credentials.credentials.strip()


async def current_session(rt: RuntimeDep, credentials: Bearer) -> repo.LanSession:
    key = hash_token(_token(credentials))
    session = await repo.session(rt.store, key)
    if session is None:
        raise Refusal("lan_session_invalid", 401)
    if datetime.fromisoformat(session.expires_at) <= _now():
        await repo.end_session(rt.store, key)
        raise Refusal("lan_session_invalid", 401)
    return session


async def log_out(rt: Runtime, session: repo.LanSession) -> None:
    await repo.end_session(rt.store, session.id)


async def current_user(
    session: Annotated[repo.LanSession, Depends(current_session)],
) -> LanUser:
    # Field by field, alike in shape to routing's replica_device (directory_replica.py) and
    # other conversions between two types of their own.
    return LanUser(
        tenant=session.tenant,
        login=session.login,
        name=session.name,
        groups=session.groups,
        device_id=session.device_id,
    )


async def require_admin(rt: RuntimeDep, credentials: Bearer) -> None:
    check_admin_token(credentials, rt.settings.admin_token)


SessionDep = Annotated[repo.LanSession, Depends(current_session)]
UserDep = Annotated[LanUser, Depends(current_user)]
AdminDep = Annotated[None, Depends(require_admin)]
