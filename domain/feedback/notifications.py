"""Push/inbox texts (vi, en) for feedback status changes and escalations.

Imported by the use cases so the templates exist wherever a feedback notification can be queued.
"""

from __future__ import annotations

from domain.notifications.templates import TEMPLATES, Template


def _status(kind: str, vi: str, en: str) -> None:
    TEMPLATES[f"feedback.{kind}"] = Template(
        title={"vi": "Phản ánh {ref}", "en": "Report {ref}"},
        body={"vi": vi, "en": en},
    )


_status("acknowledged", "Đơn vị xử lý đã tiếp nhận phản ánh của bạn.", "The responsible unit has received your report.")
_status("category_changed", "Phản ánh đã được phân loại lại.", "Your report was moved to another category.")
_status("transferred", "Phản ánh đã được chuyển đến đơn vị có thẩm quyền.",
        "Your report was transferred to the responsible unit.")
_status("handled", "Phản ánh đã được xử lý. Hãy xem kết quả và đánh giá.",
        "Your report was handled. See the answer and rate it.")
_status("rejected", "Phản ánh không được tiếp nhận. Xem lý do trong ứng dụng.",
        "Your report was declined. See the reason in the app.")
_status("duplicate", "Phản ánh trùng với một phản ánh khác; bạn sẽ nhận cập nhật của phản ánh đó.",
        "Your report duplicates another one; you will get that report's updates.")
_status("reopened", "Phản ánh đã được mở lại để xử lý tiếp.", "The report was reopened for further handling.")

TEMPLATES["feedback.overdue"] = Template(
    title={"vi": "Phản ánh {ref} quá hạn", "en": "Report {ref} is overdue"},
    body={"vi": "Hạn {deadline} đã qua lúc {due_at}. Vui lòng chỉ đạo xử lý.",
          "en": "The {deadline} deadline passed at {due_at}. Please follow up."},
)
