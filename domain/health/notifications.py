"""Texts and deep links of the health notifications (registered into the notifications registry).

No health data in a notification: it says *that* something happened and opens the app.
"""

from __future__ import annotations

from domain.notifications.templates import DEEP_LINKS, TEMPLATES, Template

TEMPLATES["health.new_visit"] = Template(
    title={"vi": "Hồ sơ sức khỏe có lượt khám mới", "en": "New visit in your health record"},
    body={"vi": "{facility} vừa cập nhật hồ sơ sức khỏe của bạn.", "en": "{facility} has updated your health record."},
)
TEMPLATES["health.new_reader"] = Template(
    title={"vi": "Có người mới xem hồ sơ sức khỏe", "en": "Someone new read your health record"},
    body={"vi": "{reader} đã xem hồ sơ sức khỏe của bạn. Xem nhật ký truy cập trong ứng dụng.",
          "en": "{reader} read your health record. See the access log in the app."},
)
DEEP_LINKS["health_visit"] = "thudo://health/visits/{id}"
DEEP_LINKS["health_access"] = "thudo://health/access-log"
