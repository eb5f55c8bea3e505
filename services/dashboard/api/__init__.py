"""The dashboard's HTTP routers: the operator's page and its JSON, and the documents' view."""

from fastapi import APIRouter

from services.dashboard.api import board, documents

ROUTERS: tuple[APIRouter, ...] = (board.router, documents.router)
