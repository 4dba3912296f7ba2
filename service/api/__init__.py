"""FastAPI app: one router per feature holds the HTTP concerns; `service.runtime` holds the logic."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service import observability
from service.access import AccessControl
from service.api import answers, articles, documents, operations, widget
from service.api.errors import register_errors
from service.schemas import ErrorBody
from service.settings import Settings, get_settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="directive-qa", version="0.1.0",
                  description="Answers about Vietnamese administrative directives, every claim "
                              "backed by a checked clause citation.",
                  responses={status: {"model": ErrorBody} for status in (400, 401, 404, 409, 422, 429, 503)})
    app.state.settings = settings
    app.state.access = AccessControl(settings)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                       allow_headers=["Content-Type", "X-API-Key"])
    register_errors(app)
    observability.install(app)
    for feature in (operations, answers, documents, articles, widget):
        app.include_router(feature.router)
    return app
