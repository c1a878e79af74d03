"""Payments domain errors as problem+json responses (one table: routes stay free of try/except)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gamestore.payments.domain import PaymentError, PaymentNotFound
from gamestore.payments.orders import OrderNotFound, OrderPaid, PaymentInFlight
from gamestore.platform.http.codes import CANNOT_PROCESS, Problem, define
from gamestore.platform.http.problems import answer
from gamestore.platform.i18n import N_

_PROBLEMS: dict[type[PaymentError], Problem] = {
    PaymentNotFound: define(404, "payment_not_found", N_("No such payment.")),
    OrderNotFound: define(404, "order_not_found", N_("No such order.")),  # as games says it
    OrderPaid: define(409, "order_paid", N_("This order is paid already.")),
    PaymentInFlight: define(
        409,
        "payment_in_flight",
        N_("A payment of this order is still in flight; wait for its outcome."),
    ),
}


async def _on_payment_error(_: Request, error: Exception) -> JSONResponse:
    problem = next(
        (entry for kind, entry in _PROBLEMS.items() if isinstance(error, kind)), CANNOT_PROCESS
    )
    return answer(problem)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PaymentError, _on_payment_error)
