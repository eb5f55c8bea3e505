"""The routing's HTTP routers. It serves only what every service serves (health, readiness and
metrics: shared/http.py); its callers reach it over RabbitMQ (consumers.py)."""

from fastapi import APIRouter

ROUTERS: tuple[APIRouter, ...] = ()
