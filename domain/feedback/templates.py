"""Response templates offered to staff (the city found vague answers were the main cause of
dissatisfaction): a reply states what was done; a rejection names a recognised reason."""

from __future__ import annotations

from typing import Literal

import msgspec


class ReplyTemplate(msgspec.Struct, frozen=True):
    code: str
    kind: Literal["reply", "reject"]
    text_vi: str
    text_en: str


REPLY_TEMPLATES: tuple[ReplyTemplate, ...] = (
    ReplyTemplate("fixed", "reply", "Đơn vị đã khắc phục xong vào ngày {date}. Ảnh hiện trường sau xử lý kèm theo.",
                  "The unit fixed the problem on {date}. Photos after the work are attached."),
    ReplyTemplate("scheduled", "reply", "Đơn vị đã lập kế hoạch xử lý, dự kiến hoàn thành ngày {date}.",
                  "The work is scheduled and expected to be finished on {date}."),
    ReplyTemplate("sanctioned", "reply", "Đơn vị đã kiểm tra, lập biên bản và xử lý vi phạm theo quy định.",
                  "The unit inspected the site, recorded the violation and sanctioned it."),
    ReplyTemplate("not_responsibility", "reject", "Nội dung không thuộc thẩm quyền giải quyết của cơ quan hành chính.",
                  "The matter is outside the competence of the administration."),
    ReplyTemplate("insufficient_info", "reject", "Phản ánh thiếu thông tin về vị trí hoặc nội dung để xác minh.",
                  "The report lacks the location or details needed to verify it."),
    ReplyTemplate("not_found_on_site", "reject",
                  "Đơn vị đã kiểm tra thực tế nhưng không phát hiện sự việc như phản ánh.",
                  "The unit inspected the site and did not find the reported problem."),
    ReplyTemplate("court_procedure", "reject", "Nội dung đang được giải quyết theo thủ tục tố tụng hoặc khiếu nại.",
                  "The matter is being handled through a court or complaint procedure."),
    ReplyTemplate("inappropriate", "reject", "Phản ánh có nội dung không phù hợp với quy định sử dụng.",
                  "The report's content breaks the terms of use."),
)

REJECT_CODES = frozenset(t.code for t in REPLY_TEMPLATES if t.kind == "reject")
