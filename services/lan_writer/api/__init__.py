"""The LAN writer's HTTP routers: each parses a request, calls one use case of the desk and
renders the answer."""

from fastapi import APIRouter

from services.lan_writer.api import admin, catalog, created, terminal

ROUTERS: tuple[APIRouter, ...] = (
    terminal.router,
    created.router,
    catalog.router,
    admin.router,
)
