"""Push/inbox texts (vi, en) for every step of a judicial record request and for verifications."""

from __future__ import annotations

from domain.notifications.templates import DEEP_LINKS, TEMPLATES, Template

_TEXTS = {
    "submitted": ("Đã nộp yêu cầu cấp phiếu lý lịch tư pháp.", "Your request was submitted."),
    "received": ("Cơ quan cấp phiếu đã tiếp nhận hồ sơ.", "The authority received your request."),
    "verifying": ("Hồ sơ đang được xác minh.", "Your request is being verified."),
    "supplement_requested": ("Hồ sơ cần bổ sung. Xem yêu cầu trong ứng dụng.",
                             "Your request needs more information. See the app."),
    "supplemented": ("Đã gửi thông tin bổ sung.", "Your supplement was sent."),
    "approved": ("Yêu cầu đã được duyệt; phiếu đang được phát hành.", "Your request was approved."),
    "issued": ("Phiếu lý lịch tư pháp đã được cấp. Tải phiếu điện tử trong ứng dụng.",
               "Your certificate was issued. Download it in the app."),
    "rejected": ("Yêu cầu bị từ chối. Xem lý do trong ứng dụng.", "Your request was rejected. See the reason."),
    "withdrawn": ("Đã rút yêu cầu.", "Your request was withdrawn."),
}

for _status, (_vi, _en) in _TEXTS.items():
    TEMPLATES[f"judicial.{_status}"] = Template(
        title={"vi": "Phiếu LLTP {ref}", "en": "Judicial record {ref}"}, body={"vi": _vi, "en": _en})

TEMPLATES["judicial.verified"] = Template(
    title={"vi": "Phiếu {number} vừa được xác minh", "en": "Certificate {number} was verified"},
    body={"vi": "Mã chia sẻ …{hint} ({purpose}) vừa được dùng để xem phiếu của bạn.",
          "en": "Share code …{hint} ({purpose}) was just used to view your certificate."})
TEMPLATES["judicial.status_changed"] = Template(
    title={"vi": "Phiếu {number}", "en": "Certificate {number}"},
    body={"vi": "Tình trạng phiếu: {status}.", "en": "Certificate status: {status}."})

DEEP_LINKS["judicial_request"] = "thudo://judicial/requests/{id}"
DEEP_LINKS["judicial_certificate"] = "thudo://judicial/certificates/{id}"
