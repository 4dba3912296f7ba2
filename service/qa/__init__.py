"""Answering: understand → retrieve → support → compose, behind the `Engine` facade."""
from service.qa.engine import AmbiguousDocument, Engine
from service.qa.understand import Query

__all__ = ["AmbiguousDocument", "Engine", "Query"]
