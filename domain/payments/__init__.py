"""Payments: payment intents shared by the contexts that sell something (judicial fees, transit).

Public surface for other contexts (everything else is internal):

* ``model`` — ``PaymentIntent`` and ``IntentStatus`` (requires_payment → processing → succeeded |
  failed | expired | canceled; succeeded → partially_refunded → refunded), ``Refund``, ``Checkout``.
* ``ports`` — ``PaymentProvider`` (VietQR, a gateway, the local stand-in), ``PaymentIntents`` (the
  repository, on the caller's transaction) and ``PaidObjectHandler``: what the owning context
  registers per purpose (``judicial.fee``, ``transit.pass``) to react to success, refund and
  non-payment *in the same transaction* as the intent's change.
* ``intents`` — ``CreatePaymentIntent`` (idempotent: one intent per order = purpose + object id),
  ``GetPaymentIntent``, ``CancelPaymentIntent``.
* ``notify`` / ``refunds`` / ``jobs`` — provider notifications, refunds, expiry, reconciliation and
  the daily mismatch report (used by the API and the worker, not by other contexts).
"""
