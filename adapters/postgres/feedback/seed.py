"""Demo feedback categories (reference data): Vietnamese/English names, levels, SLAs, questions.

Upserted by code, so running the seed again updates them in place.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from domain.feedback.model import Datatype, Question, QuestionValue
from domain.shared.ids import new_id

_YES_NO = (QuestionValue("yes", "Có", "Yes"), QuestionValue("no", "Không", "No"))
_SIZE = (QuestionValue("small", "Nhỏ (dưới 1 m)", "Small (under 1 m)"),
         QuestionValue("medium", "Vừa (1–3 m)", "Medium (1–3 m)"),
         QuestionValue("large", "Lớn (trên 3 m)", "Large (over 3 m)"))

# code, name_vi, name_en, group, level, normal h, complex h, department code, route to department, questions
CATEGORIES: list[tuple[str, str, str, str, str, int, int, str | None, bool, tuple[Question, ...]]] = [
    ("ROAD_DAMAGE", "Hư hỏng mặt đường, vỉa hè", "Damaged road or pavement", "infrastructure", "normal", 40, 120,
     "S-XD", False, (Question(code="size", datatype=Datatype.SINGLE, required=True, label_vi="Kích thước",
                              label_en="Size", values=_SIZE),)),
    ("STREET_LIGHT", "Đèn chiếu sáng công cộng hỏng", "Broken street light", "infrastructure", "normal", 24, 80,
     "HAPULICO", True, (Question(code="pole_number", datatype=Datatype.STRING, label_vi="Số hiệu cột đèn",
                                 label_en="Pole number"),)),
    ("WASTE", "Rác thải, vệ sinh môi trường", "Waste and sanitation", "environment", "normal", 16, 80,
     "URENCO", False, ()),
    ("FLOODING", "Ngập úng, tắc cống thoát nước", "Flooding or blocked drain", "environment", "urgent", 16, 80,
     "CT-TNHH-MTV-TN", True, (Question(code="depth_cm", datatype=Datatype.NUMBER, required=True,
                                       label_vi="Độ sâu ngập (cm)", label_en="Water depth (cm)"),)),
    ("SIDEWALK", "Lấn chiếm vỉa hè, lòng đường", "Sidewalk or roadway encroachment", "public_order", "normal",
     24, 80, None, False, ()),
    ("CONSTRUCTION", "Vi phạm trật tự xây dựng", "Illegal construction", "construction", "complex", 80, 240,
     "S-XD", False, (Question(code="permit_visible", datatype=Datatype.SINGLE, label_vi="Có biển báo giấy phép?",
                              label_en="Is a building permit displayed?", values=_YES_NO),)),
    ("FALLEN_TREE", "Cây xanh gãy đổ, nguy hiểm", "Fallen or dangerous tree", "infrastructure", "urgent", 16, 40,
     None, False, (Question(code="blocking_road", datatype=Datatype.SINGLE, required=True,
                            label_vi="Cây chắn đường?", label_en="Is the road blocked?", values=_YES_NO),)),
    ("NOISE", "Tiếng ồn, ô nhiễm", "Noise or pollution", "environment", "normal", 40, 120, None, False,
     (Question(code="observed_at", datatype=Datatype.DATETIME, label_vi="Thời điểm", label_en="When"),
      Question(code="sources", datatype=Datatype.MULTI, label_vi="Nguồn", label_en="Sources",
               values=(QuestionValue("karaoke", "Karaoke", "Karaoke"),
                       QuestionValue("construction", "Công trình", "Construction site"),
                       QuestionValue("traffic", "Giao thông", "Traffic"))))),
    ("PUBLIC_SECURITY", "An ninh trật tự", "Public security", "public_order", "urgent", 16, 80, "CA-TP", True, ()),
]

_UPSERT = """
INSERT INTO feedback_categories (id, code, name_vi, name_en, grp, default_level, sla_normal_hours,
    sla_complex_hours, department_id, route_to_department, questions)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT id FROM units WHERE code = $9), $10, $11)
ON CONFLICT (code) DO UPDATE SET name_vi = EXCLUDED.name_vi, name_en = EXCLUDED.name_en, grp = EXCLUDED.grp,
    default_level = EXCLUDED.default_level, sla_normal_hours = EXCLUDED.sla_normal_hours,
    sla_complex_hours = EXCLUDED.sla_complex_hours, department_id = EXCLUDED.department_id,
    route_to_department = EXCLUDED.route_to_department, questions = EXCLUDED.questions, updated_at = now()
"""


async def seed_feedback_categories(conn: asyncpg.Connection[Any]) -> None:
    for code, vi, en, grp, level, normal, complex_, dept, to_dept, questions in CATEGORIES:
        await conn.execute(_UPSERT, new_id(), code, vi, en, grp, level, normal, complex_, dept, to_dept,
                           msgspec.to_builtins(questions))
