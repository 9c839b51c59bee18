"""Push/inbox texts (vi, en) of the transit context. ``{product}`` is the product's own name, which already
says what it is ("Vé ngày đường sắt đô thị", "Monthly pass, route 34"), so the titles do not repeat it."""

from __future__ import annotations

from domain.notifications.templates import TEMPLATES, Template

TEMPLATES["transit.pass_issued"] = Template(
    title={"vi": "{product} đã sẵn sàng", "en": "{product}: ready to ride"},
    body={"vi": "Thẻ {card}: vé có hiệu lực từ {valid_from}.", "en": "Card {card}: valid from {valid_from}."},
)
TEMPLATES["transit.pass_revoked"] = Template(
    title={"vi": "{product} đã bị hủy", "en": "{product}: cancelled"},
    body={"vi": "Vé không còn dùng được để đi xe.", "en": "The pass can no longer be used to ride."},
)
TEMPLATES["transit.device_rebound"] = Template(
    title={"vi": "Vé đã chuyển sang điện thoại mới", "en": "Passes moved to a new phone"},
    body={"vi": "Mã QR trên điện thoại cũ không còn hiệu lực.",
          "en": "QR codes on your previous phone no longer work."},
)
TEMPLATES["transit.concession_decided"] = Template(
    title={"vi": "Kết quả xét đối tượng ưu tiên", "en": "Concession application decided"},
    body={"vi": "Hồ sơ {category}: {decision}.", "en": "Application for {category}: {decision}."},
)
TEMPLATES["transit.pass_expiring"] = Template(
    title={"vi": "{product} sắp hết hạn", "en": "{product}: expires soon"},
    body={"vi": "Vé hết hạn ngày {valid_until}. Gia hạn trong ứng dụng để tiếp tục đi xe.",
          "en": "It expires on {valid_until}. Renew it in the app to keep riding."},
)
