"""HTTP building blocks shared by every service: problem+json, request ids, limits, serving."""

from gamestore.platform.http.app import create_app, serve
from gamestore.platform.http.problems import ProblemError, problem_response

__all__ = ["ProblemError", "create_app", "problem_response", "serve"]
