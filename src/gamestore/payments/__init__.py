"""Payments (green) and its asynchronous side (pink): the Payment aggregate, its API, the PSP
webhook endpoint, the payment worker and the webhook function."""
