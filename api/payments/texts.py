"""Vietnamese and English texts of the payments error codes."""

from __future__ import annotations

from api.platform import i18n

i18n.register({
    "payments.intent_not_found": {"vi": "Không tìm thấy khoản thanh toán", "en": "Payment not found"},
    "payments.refund_not_found": {"vi": "Không tìm thấy yêu cầu hoàn tiền", "en": "Refund not found"},
    "payments.invalid_amount": {"vi": "Số tiền không hợp lệ", "en": "Invalid amount"},
    "payments.invalid_purpose": {"vi": "Mục đích thanh toán không hợp lệ", "en": "Invalid payment purpose"},
    "payments.invalid_ttl": {"vi": "Thời hạn thanh toán không hợp lệ", "en": "Invalid payment deadline"},
    "payments.unknown_provider": {"vi": "Phương thức thanh toán không được hỗ trợ",
                                  "en": "Payment method not supported"},
    "payments.order_already_paid": {"vi": "Đơn hàng đã được thanh toán với số tiền khác",
                                    "en": "The order was already paid with another amount"},
    "payments.order_owner_mismatch": {"vi": "Đơn hàng thuộc về người khác", "en": "The order belongs to someone else"},
    "payments.payment_in_flight": {"vi": "Khoản thanh toán đang được ngân hàng xử lý, vui lòng chờ",
                                   "en": "The bank is processing a payment for this order; please wait"},
    "payments.not_refundable": {"vi": "Khoản thanh toán không thể hoàn tiền", "en": "The payment cannot be refunded"},
    "payments.refund_exceeds_balance": {"vi": "Số tiền hoàn vượt quá số đã thanh toán",
                                        "en": "The refund exceeds what was paid"},
    "payments.refund_key_reused": {"vi": "Mã yêu cầu hoàn tiền đã dùng cho yêu cầu khác",
                                   "en": "The refund key was used for another refund"},
    "payments.not_cancelable": {"vi": "Khoản thanh toán đã được trả hoặc đang xử lý, không thể hủy",
                                "en": "The payment was made or is being processed and cannot be canceled"},
    "payments.nothing_to_pay": {"vi": "Khoản thanh toán không còn chờ thanh toán",
                                "en": "Nothing is left to pay on this payment"},
    "payments.notification_rejected": {"vi": "Thông báo thanh toán không hợp lệ",
                                       "en": "Payment notification refused"},
    "payments.notification_unknown_intent": {"vi": "Thông báo cho khoản thanh toán không tồn tại",
                                             "en": "Notification for an unknown payment"},
    "payments.provider_unavailable": {"vi": "Ngân hàng tạm thời không phản hồi, vui lòng thử lại sau",
                                      "en": "The bank is not answering; please try again later"},
    "payments.provider_error": {"vi": "Ngân hàng báo lỗi khi xử lý", "en": "The bank reported an error"},
})
