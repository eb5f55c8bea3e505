"""The gateway's HTTP routers: each parses a request, calls one use case and renders the answer."""

from fastapi import APIRouter

from services.gateway.api import (
    accounting,
    admin,
    admin_processes,
    barcode_settings,
    catalog,
    journeys,
    terminal,
    terminal_created,
    webhooks,
)

# Routes are matched in order: the terminals' calls, by far the most frequent, come first.
ROUTERS: tuple[APIRouter, ...] = (
    terminal.router,
    terminal_created.router,
    catalog.terminal_router,
    accounting.router,
    catalog.accounting_router,
    webhooks.router,
    barcode_settings.router,
    admin.router,
    admin_processes.router,
    journeys.router,
)
