"""Who is calling: a signed session cookie per role (customer, staff), the CSRF check, and the demo sign-in.

A credential is an ``itsdangerous`` token — the subject (the customer id, or the staff member's name) and a CSRF
token, signed with ``SUPPORT_SECRET_KEY`` and timestamped — in an ``HttpOnly``, ``SameSite=Strict`` cookie. Each
role has its own cookie and its own salt, so a customer's credential never passes for a staff one. A request that
changes something must also send the credential's CSRF token in the ``X-CSRF-Token`` header (which a cross-site
page can neither read nor set) and, if the browser says where it comes from (``Origin``), come from this site.

The demo sign-in (``POST /api/demo/...``) hands out the same credentials a real sign-in would: a team replaces
those two routes with their identity provider's callback, which calls ``Credentials.issue`` (see
docs/support-service.md, "Security model").
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import APIKeyCookie
from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

logger = logging.getLogger("support_service")

Role = Literal["customer", "staff"]
COOKIES: dict[Role, str] = {"customer": "support_customer", "staff": "support_staff"}
#: How long a credential is accepted after it was issued, in seconds.
MAX_AGE: dict[Role, int] = {"customer": 12 * 3600, "staff": 8 * 3600}
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Caller:
    """Who a valid credential says is calling: ``subject`` is the customer id or the staff member's name."""

    role: Role
    subject: str
    csrf_token: str


@dataclass(frozen=True)
class Settings:
    """``SUPPORT_SECRET_KEY`` (the signing key: the same in every worker), the demo sign-in and its staff password."""

    secret_key: str = field(repr=False)
    demo_login: bool
    staff_password: str = field(repr=False)
    #: The demo staff password was derived from the key (not chosen with SUPPORT_STAFF_PASSWORD): logged at start.
    staff_password_derived: bool

    @classmethod
    def from_env(cls, offline_model: bool) -> Settings:
        secret_key = os.environ.get("SUPPORT_SECRET_KEY", "")
        if not secret_key:
            secret_key = secrets.token_urlsafe(32)
            logger.warning(
                "SUPPORT_SECRET_KEY is not set: a random key for this process only (sign-ins end when it stops, "
                "and other workers refuse them); set it, the same in every worker"
            )
        # The demo sign-in is on with the offline model, off with a real one unless asked for (SUPPORT_DEMO_LOGIN=1).
        demo = os.environ.get("SUPPORT_DEMO_LOGIN", "1" if offline_model else "0").strip().lower() in ("1", "true")
        # The demo staff password: SUPPORT_STAFF_PASSWORD, or one derived from the key (so every worker agrees).
        password = os.environ.get("SUPPORT_STAFF_PASSWORD", "")
        if password:
            return cls(secret_key, demo, password, staff_password_derived=False)
        password = Signer(secret_key, salt="support-service.demo-staff").get_signature(b"staff").decode()[:16]
        return cls(secret_key, demo, password, staff_password_derived=True)


class Credentials:
    """Issues and checks the signed cookies (``itsdangerous``: HMAC-SHA1 by default, a timestamp, a salt per role)."""

    def __init__(self, secret_key: str) -> None:
        self._serializers = {
            role: URLSafeTimedSerializer(secret_key, salt=f"support-service.{role}") for role in ("customer", "staff")
        }

    def issue(self, request: Request, response: Response, role: Role, subject: str) -> Caller:
        """Sign ``subject`` in as ``role``: set its cookie on ``response`` (call this after your own sign-in)."""
        caller = Caller(role, subject, secrets.token_urlsafe(24))
        token = self._serializers[role].dumps({"sub": subject, "csrf": caller.csrf_token})
        response.set_cookie(
            COOKIES[role], token, max_age=MAX_AGE[role], path="/", httponly=True, samesite="strict",
            secure=request.url.scheme == "https",
        )  # fmt: skip
        return caller

    def read(self, role: Role, token: str | None) -> Caller | None:
        """The caller a cookie names, or None when it is absent, forged, expired, or another role's."""
        if not token:
            return None
        try:
            data = self._serializers[role].loads(token, max_age=MAX_AGE[role])
        except BadSignature:  # SignatureExpired is one too
            return None
        if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in ("sub", "csrf")):
            return None
        return Caller(role, data["sub"], data["csrf"])

    @staticmethod
    def clear(response: Response, role: Role) -> None:
        response.delete_cookie(COOKIES[role], path="/", httponly=True, samesite="strict")


# --- FastAPI dependencies -------------------------------------------------------------------------------------
customer_cookie = APIKeyCookie(name=COOKIES["customer"], auto_error=False, description="A customer's sign-in")
staff_cookie = APIKeyCookie(name=COOKIES["staff"], auto_error=False, description="A staff member's sign-in")
CustomerToken = Annotated[str | None, Depends(customer_cookie)]
StaffToken = Annotated[str | None, Depends(staff_cookie)]


def credentials(request: Request) -> Credentials:
    found: Credentials = request.app.state.credentials
    return found


def signed_in_customer(request: Request, token: CustomerToken) -> Caller:
    """The customer the cookie names (401 without a valid one); a route then checks it is the path's customer."""
    caller = credentials(request).read("customer", token)
    if caller is None:
        raise HTTPException(401, "Sign in first.")
    return caller


def signed_in_staff(request: Request, token: StaffToken, customer: CustomerToken) -> Caller:
    """A staff member (401 without a valid staff credential, 403 for a signed-in customer)."""
    found = credentials(request)
    caller = found.read("staff", token)
    if caller is not None:
        return caller
    if token is None and found.read("customer", customer) is not None:
        raise HTTPException(403, "Only our staff can do this.")
    raise HTTPException(401, "Staff sign-in required.")


def same_site(request: Request) -> None:
    """Refuse a state-changing request that a browser says comes from another site."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "Cross-site request refused.")
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise HTTPException(403, "Cross-site request refused.")


def check_csrf(request: Request, caller: Caller) -> None:
    """A state-changing request: from this site, with the caller's CSRF token in ``X-CSRF-Token``."""
    same_site(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not secrets.compare_digest(sent.encode(), caller.csrf_token.encode()):
        raise HTTPException(403, "Missing or wrong CSRF token.")


def customer_writes(request: Request, caller: Annotated[Caller, Depends(signed_in_customer)]) -> Caller:
    check_csrf(request, caller)
    return caller


def staff_writes(request: Request, caller: Annotated[Caller, Depends(signed_in_staff)]) -> Caller:
    check_csrf(request, caller)
    return caller


def password_matches(sent: str, expected: str) -> bool:
    return secrets.compare_digest(sent.encode(), expected.encode())
