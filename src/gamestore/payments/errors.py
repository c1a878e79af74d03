"""Payments domain errors as problem+json responses (one table: routes stay free of try/except)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gamestore.payments.domain import PaymentError, PaymentNotFound
from gamestore.payments.orders import OrderNotFound, OrderPaid, PaymentInFlight
from gamestore.platform.http import problem_response

_STATUS: dict[type[PaymentError], tuple[int, str]] = {
    PaymentNotFound: (404, "No such payment."),
    OrderNotFound: (404, "No such order."),
    OrderPaid: (409, "This order is paid already."),
    PaymentInFlight: (409, "A payment of this order is still in flight; wait for its outcome."),
}


async def _on_payment_error(_: Request, error: Exception) -> JSONResponse:
    status, detail = next(
        (entry for kind, entry in _STATUS.items() if isinstance(error, kind)),
        (400, "The request cannot be processed."),
    )
    return problem_response(status, detail)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PaymentError, _on_payment_error)
