"""Administration pages: what city admins (and unit admins, for their own unit's staff) do through
``/api/v1/admin/…``, ``/api/v1/admin/feedback/categories`` and ``/api/v1/health-facilities`` — staff
grants, the category catalogue, Open311 partner keys, the facility registry — and the issuing
authorities of judicial records (configuration: shown, changed by a release, not by a form).

Each page calls the same use case as the API, which refuses whoever may not (403).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromPath

from adapters.postgres.feedback.repositories import PgCategories
from adapters.postgres.units.directory import PgUnitDirectory
from adapters.postgres.uow import PgUnitOfWork
from api.console.common import Req, fields, form_as, see_other
from api.console.inputs import bad_choice, uuid_or_none
from api.console.render import render
from api.console.session import ConsoleUser
from api.console.stats import every_unit
from api.console.texts import register
from api.feedback.admin import CategoryIn, category_input
from api.feedback.common import deps as feedback_deps
from api.health.wiring import health
from api.identity.admin import grant_admin, partner_key_admin
from api.judicial.wiring import services as judicial_services
from api.platform import i18n
from api.platform.deps import READ_ONLY, AppContainer, UnitOfWork
from domain.errors import Forbidden, InvalidInput, NotFound
from domain.feedback.model import CategoryInput, Level
from domain.feedback.usecases.admin import SaveCategory
from domain.health.facilities import FacilityDraft
from domain.health.model import FacilityLevel
from domain.identity.access import require_city_admin
from domain.identity.principal import Principal, StaffRole
from domain.shared.paging import MAX_LIMIT
from domain.units.model import Unit, UnitKind

PERSONAL_ID = re.compile(r"^[0-9]{12}$")
ADMIN = "/console/admin"


def may_administer(staff: Principal) -> bool:
    """Who sees the admin menu: city admins, and unit admins (their own unit's staff grants only)."""
    return staff.city_admin or any(g.role is StaffRole.UNIT_ADMIN for g in staff.grants)


def _require_admin(staff: Principal) -> None:
    if not may_administer(staff):
        raise Forbidden("identity.city_admin_required")


async def _grant_units(uow: PgUnitOfWork, staff: Principal) -> list[Unit]:
    """Units whose staff the caller manages: every unit for a city admin, else the units they are unit admin of."""
    if staff.city_admin:
        return await every_unit(uow)
    own = {g.unit_id for g in staff.grants if g.role is StaffRole.UNIT_ADMIN}
    return await PgUnitDirectory(uow.conn).get_many(sorted(own))


def _flag(value: object) -> bool:
    return str(value) in ("1", "true", "on")


async def _category_form(request: Req, staff: Principal, uow: PgUnitOfWork,
                         category_id: uuid.UUID | None) -> Response[str]:
    """The form that creates a category, or edits one (its Open311 questions are kept as they are)."""
    require_city_admin(staff)
    current = None if category_id is None else await PgCategories(uow.conn).get(category_id)
    if category_id is not None and current is None:
        raise NotFound("feedback.category_not_found")
    return render(request, "admin/category.html", category=current, levels=list(Level),
                  departments=await PgUnitDirectory(uow.conn).list(UnitKind.DEPARTMENT, None))


async def _save_category(request: Req, staff: Principal, container: Any, uow: PgUnitOfWork,
                         category_id: uuid.UUID | None) -> Response[str]:
    require_city_admin(staff)
    d = feedback_deps(container, uow.conn)
    current = None if category_id is None else await d.categories.get(category_id)
    if category_id is not None and current is None:
        raise NotFound("feedback.category_not_found")
    form = await request.form()
    text = fields(form, "code", "name_vi", "name_en", "description_vi", "description_en", "group", "keywords",
                  "default_level", "normal_hours", "complex_hours", "urgent_hours", "department_id")
    keywords = [k.strip() for k in text.pop("keywords", "").split(",") if k.strip()]
    sla = {k: text.pop(k) for k in ("normal_hours", "complex_hours", "urgent_hours") if k in text}
    questions = [msgspec.to_builtins(q) for q in current.questions] if current else []
    # The API's own schema (CategoryIn: lengths, patterns, SLA bounds); the questions stay as they are.
    data = form_as(CategoryIn, {**text, "keywords": keywords, "sla": sla, "questions": questions,
                                "route_to_department": _flag(form.get("route_to_department")),
                                "active": current.active if current else True})
    saved = await SaveCategory(d).execute(staff, category_input(data), category_id)
    return see_other(f"{ADMIN}/categories?done={saved.code}")


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False

    @get("/", name="console.admin", opt=READ_ONLY)
    async def index(self, request: Req, staff: ConsoleUser) -> Response[str]:
        _require_admin(staff)
        return render(request, "admin/index.html")

    # --- staff grants -------------------------------------------------------------------------------------

    @get("/staff", name="console.admin.staff", opt=READ_ONLY)
    async def staff_grants(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork
    ) -> Response[str]:
        _require_admin(staff)
        units = await _grant_units(uow, staff)
        unit_id = uuid_or_none(request.query_params.get("unit")) or (units[0].id if units else None)
        grants = (await grant_admin(container, uow).list(staff, unit_id, None, MAX_LIMIT)).items if unit_id else []
        done = request.query_params.get("done", "")
        return render(
            request,
            "admin/staff.html",
            units=units,
            unit_id=unit_id,
            grants=grants,
            roles=list(StaffRole),
            done=done if done in ("granted", "withdrawn") else "",
        )

    @post("/staff/grant", name="console.admin.staff.grant", status_code=303)
    async def grant(self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork) -> Response[str]:
        form = await request.form()
        unit_id, role, personal_id = _unit(form), _role(form), fields(form, "personal_id").get("personal_id", "")
        if not PERSONAL_ID.match(personal_id):
            raise InvalidInput("console.personal_id", field="personal_id", rule="pattern")
        await grant_admin(container, uow).grant(
            staff, unit_id=unit_id, role=role, user_id=None, personal_id=personal_id
        )
        return see_other(f"{ADMIN}/staff?unit={unit_id}&done=granted")

    @post("/staff/withdraw", name="console.admin.staff.withdraw", status_code=303)
    async def withdraw(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork
    ) -> Response[str]:
        form = await request.form()
        unit_id, role, user_id = _unit(form), _role(form), uuid_or_none(form.get("user_id"))
        if user_id is None:
            raise bad_choice("user_id")
        await grant_admin(container, uow).withdraw(staff, unit_id, user_id, role.value)
        return see_other(f"{ADMIN}/staff?unit={unit_id}&done=withdrawn")

    # --- feedback categories ------------------------------------------------------------------------------

    @get("/categories", name="console.admin.categories", opt=READ_ONLY)
    async def categories(self, request: Req, staff: ConsoleUser, uow: UnitOfWork) -> Response[str]:
        require_city_admin(staff)
        categories = await PgCategories(uow.conn).list(active_only=False)
        done = request.query_params.get("done", "")
        return render(request, "admin/categories.html", categories=categories,
                      saved=done if any(c.code == done for c in categories) else "")

    @get("/categories/new", name="console.admin.category.new", opt=READ_ONLY)
    async def new_category(self, request: Req, staff: ConsoleUser, uow: UnitOfWork) -> Response[str]:
        return await _category_form(request, staff, uow, None)

    @get("/categories/{category_id:uuid}", name="console.admin.category", opt=READ_ONLY)
    async def category(self, request: Req, staff: ConsoleUser, uow: UnitOfWork,
                       category_id: FromPath[uuid.UUID]) -> Response[str]:
        return await _category_form(request, staff, uow, category_id)

    @post("/categories", name="console.admin.category.create", status_code=303)
    async def create_category(self, request: Req, staff: ConsoleUser, container: AppContainer,
                              uow: UnitOfWork) -> Response[str]:
        return await _save_category(request, staff, container, uow, None)

    @post("/categories/{category_id:uuid}", name="console.admin.category.save", status_code=303)
    async def save_category(self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork,
                            category_id: FromPath[uuid.UUID]) -> Response[str]:
        return await _save_category(request, staff, container, uow, category_id)

    @post("/categories/{category_id:uuid}/active", name="console.admin.category.active", status_code=303)
    async def category_active(
        self,
        request: Req,
        staff: ConsoleUser,
        container: AppContainer,
        uow: UnitOfWork,
        category_id: FromPath[uuid.UUID],
    ) -> Response[str]:
        require_city_admin(staff)
        d = feedback_deps(container, uow.conn)
        current = await d.categories.get(category_id)
        if current is None:
            raise NotFound("feedback.category_not_found")
        fields = {k: v for k, v in msgspec.structs.asdict(current).items() if k in CategoryInput.__struct_fields__}
        changed = CategoryInput(**{**fields, "active": _flag((await request.form()).get("active"))})
        await SaveCategory(d).execute(staff, changed, category_id)
        return see_other(f"{ADMIN}/categories")

    # --- Open311 partner keys -----------------------------------------------------------------------------

    @get("/open311-keys", name="console.admin.keys", opt=READ_ONLY)
    async def keys(self, request: Req, staff: ConsoleUser, uow: UnitOfWork) -> Response[str]:
        page = await partner_key_admin(uow).list(staff, None, MAX_LIMIT)
        return render(request, "admin/keys.html", keys=page.items, issued=None)

    @post("/open311-keys", name="console.admin.keys.issue")
    async def issue_key(self, request: Req, staff: ConsoleUser, uow: UnitOfWork) -> Response[str]:
        name = fields(await request.form(), "name").get("name", "")
        if not 1 <= len(name) <= 200:
            raise InvalidInput("console.name_length", field="name", rule="length")
        admin = partner_key_admin(uow)
        issued = await admin.issue(staff, name)
        # Shown once, on this very page (never in a redirect's URL): the key itself is not stored.
        return render(request, "admin/keys.html", keys=(await admin.list(staff, None, MAX_LIMIT)).items, issued=issued)

    @post("/open311-keys/{key_id:uuid}/revoke", name="console.admin.keys.revoke", status_code=303)
    async def revoke_key(self, staff: ConsoleUser, uow: UnitOfWork, key_id: FromPath[uuid.UUID]) -> Response[str]:
        await partner_key_admin(uow).revoke(staff, key_id)
        return see_other(f"{ADMIN}/open311-keys")

    # --- health facilities --------------------------------------------------------------------------------

    @get("/facilities", name="console.admin.facilities", opt=READ_ONLY)
    async def facilities(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork
    ) -> Response[str]:
        found = await health(container, uow.conn).registry.list(staff)
        districts = await PgUnitDirectory(uow.conn).list(UnitKind.DISTRICT, None)
        return render(
            request,
            "admin/facilities.html",
            facilities=found,
            districts=districts,
            district_names={u.id: u for u in districts},
            levels=list(FacilityLevel),
        )

    @post("/facilities", name="console.admin.facilities.add", status_code=303)
    async def add_facility(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork
    ) -> Response[str]:
        form = await request.form()
        try:
            level = FacilityLevel(str(form.get("level", "")))
        except ValueError:
            raise bad_choice("level") from None
        text = fields(form, "code", "name")
        draft = FacilityDraft(
            code=text.get("code", "").upper(),
            name=text.get("name", ""),
            level=level,
            district_id=uuid_or_none(form.get("district_id")),
        )
        await health(container, uow.conn).registry.add(staff, draft)
        return see_other(f"{ADMIN}/facilities")

    @post("/facilities/{facility_id:uuid}/active", name="console.admin.facility.active", status_code=303)
    async def facility_active(
        self,
        request: Req,
        staff: ConsoleUser,
        container: AppContainer,
        uow: UnitOfWork,
        facility_id: FromPath[uuid.UUID],
    ) -> Response[str]:
        registry = health(container, uow.conn).registry
        current = next((f for f in await registry.list(staff) if f.id == facility_id), None)
        if current is None:
            raise NotFound("health.facility_not_found")
        draft = FacilityDraft(
            code=current.code,
            name=current.name,
            level=current.level,
            district_id=current.district_id,
            client_id=current.client_id,
            active=_flag((await request.form()).get("active")),
        )
        await registry.update(staff, facility_id, draft)
        return see_other(f"{ADMIN}/facilities")

    # --- judicial issuing authorities ---------------------------------------------------------------------

    @get("/authorities", name="console.admin.authorities", opt=READ_ONLY)
    async def authorities(
        self, request: Req, staff: ConsoleUser, container: AppContainer, uow: UnitOfWork
    ) -> Response[str]:
        require_city_admin(staff)
        schedule = await judicial_services(container).authorities(uow.conn)
        return render(
            request, "admin/authorities.html", periods=schedule.periods, current=schedule.on(container.clock.now())
        )


def _unit(form: Any) -> uuid.UUID:
    unit_id = uuid_or_none(form.get("unit_id"))
    if unit_id is None:
        raise bad_choice("unit_id")
    return unit_id


def _role(form: Any) -> StaffRole:
    try:
        return StaffRole(str(form.get("role", "")))
    except ValueError:
        raise bad_choice("role") from None


i18n.register(
    {
        "console.personal_id": {
            "vi": "Số định danh cá nhân gồm 12 chữ số",
            "en": "The personal ID number has 12 digits",
        },
        "console.name_length": {"vi": "Tên từ 1 đến 200 ký tự", "en": "A name of 1 to 200 characters"},
    }
)

register(
    {
        "admin.nav": {"vi": "Quản trị", "en": "Administration"},
        "admin.title": {"vi": "Quản trị hệ thống", "en": "Administration"},
        "admin.staff": {"vi": "Phân quyền cán bộ", "en": "Staff grants"},
        "admin.staff.intro": {
            "vi": "Quyền có hiệu lực ngay ở lần thao tác kế tiếp của cán bộ; thu hồi quyền kết thúc "
            "phiên làm việc trên cổng cán bộ.",
            "en": "A grant takes effect on the person's next request; withdrawing it ends their console session.",
        },
        "admin.staff.unit": {"vi": "Đơn vị", "en": "Unit"},
        "admin.staff.show": {"vi": "Xem", "en": "Show"},
        "admin.staff.name": {"vi": "Họ và tên", "en": "Name"},
        "admin.staff.role": {"vi": "Vai trò", "en": "Role"},
        "admin.staff.since": {"vi": "Cấp lúc", "en": "Granted"},
        "admin.staff.none": {"vi": "Đơn vị chưa có cán bộ nào.", "en": "The unit has no staff yet."},
        "admin.staff.personal_id": {
            "vi": "Số định danh cá nhân (12 chữ số; người đó đã đăng nhập VNeID ít nhất một lần)",
            "en": "Personal ID number (12 digits; the person has logged in with VNeID once)",
        },
        "admin.staff.grant": {"vi": "Cấp quyền", "en": "Grant"},
        "admin.staff.withdraw": {"vi": "Thu hồi", "en": "Withdraw"},
        "admin.staff.granted": {"vi": "Đã cấp quyền.", "en": "Granted."},
        "admin.staff.withdrawn": {"vi": "Đã thu hồi quyền.", "en": "Withdrawn."},
        "admin.categories": {"vi": "Lĩnh vực phản ánh", "en": "Feedback categories"},
        "admin.categories.intro": {
            "vi": "Ngừng sử dụng một lĩnh vực: phản ánh cũ vẫn giữ lĩnh vực đó. Câu hỏi bổ sung (Open311) "
            "của một lĩnh vực được sửa qua API quản trị; biểu mẫu này giữ nguyên chúng.",
            "en": "Retiring a category keeps it on existing reports. A category's extra (Open311) questions "
            "are edited through the admin API; this form keeps them as they are.",
        },
        "admin.categories.new": {"vi": "Thêm lĩnh vực", "en": "New category"},
        "admin.categories.edit": {"vi": "Sửa", "en": "Edit"},
        "admin.categories.saved": {"vi": "Đã lưu lĩnh vực {code}.", "en": "Category {code} saved."},
        "admin.categories.name_vi": {"vi": "Tên (tiếng Việt)", "en": "Name (Vietnamese)"},
        "admin.categories.name_en": {"vi": "Tên (tiếng Anh)", "en": "Name (English)"},
        "admin.categories.description_vi": {"vi": "Mô tả (tiếng Việt)", "en": "Description (Vietnamese)"},
        "admin.categories.description_en": {"vi": "Mô tả (tiếng Anh)", "en": "Description (English)"},
        "admin.categories.group": {"vi": "Nhóm", "en": "Group"},
        "admin.categories.keywords": {"vi": "Từ khóa (cách nhau bởi dấu phẩy)", "en": "Keywords (comma-separated)"},
        "admin.categories.level": {"vi": "Mức độ mặc định", "en": "Default level"},
        "admin.categories.normal_hours": {"vi": "Thời hạn thường (giờ làm việc)",
                                          "en": "Normal deadline (working hours)"},
        "admin.categories.complex_hours": {"vi": "Thời hạn phức tạp (giờ làm việc)",
                                           "en": "Complex deadline (working hours)"},
        "admin.categories.urgent_hours": {"vi": "Thời hạn khẩn (giờ làm việc, tối đa 4)",
                                          "en": "Urgent deadline (working hours, at most 4)"},
        "admin.categories.department": {"vi": "Sở, ngành phụ trách", "en": "Responsible department"},
        "admin.categories.no_department": {"vi": "— không —", "en": "— none —"},
        "admin.categories.route": {"vi": "Chuyển phản ánh tới sở, ngành (không tới địa phương)",
                                   "en": "Route reports to the department (not the locality)"},
        "admin.categories.save": {"vi": "Lưu", "en": "Save"},
        "admin.categories.code": {"vi": "Mã", "en": "Code"},
        "admin.categories.name": {"vi": "Tên", "en": "Name"},
        "admin.categories.sla": {
            "vi": "Thời hạn (giờ làm việc: thường / phức tạp / khẩn)",
            "en": "Deadline (working hours: normal / complex / urgent)",
        },
        "admin.active": {"vi": "Đang dùng", "en": "Active"},
        "admin.inactive": {"vi": "Ngừng dùng", "en": "Retired"},
        "admin.deactivate": {"vi": "Ngừng sử dụng", "en": "Retire"},
        "admin.activate": {"vi": "Dùng lại", "en": "Reactivate"},
        "admin.keys": {"vi": "Khóa Open311 của đối tác", "en": "Open311 partner keys"},
        "admin.keys.name": {"vi": "Tổ chức đối tác", "en": "Partner organisation"},
        "admin.keys.created": {"vi": "Cấp lúc", "en": "Issued"},
        "admin.keys.revoked": {"vi": "Đã thu hồi", "en": "Revoked"},
        "admin.keys.issue": {"vi": "Cấp khóa mới", "en": "Issue a key"},
        "admin.keys.revoke": {"vi": "Thu hồi", "en": "Revoke"},
        "admin.keys.once": {
            "vi": "Khóa chỉ hiển thị một lần này. Hãy gửi cho đối tác qua kênh an toàn.",
            "en": "The key is shown this once. Send it to the partner over a safe channel.",
        },
        "admin.keys.none": {"vi": "Chưa cấp khóa nào.", "en": "No key issued yet."},
        "admin.facilities": {"vi": "Cơ sở y tế", "en": "Health facilities"},
        "admin.facilities.code": {"vi": "Mã cơ sở", "en": "Code"},
        "admin.facilities.name": {"vi": "Tên cơ sở", "en": "Name"},
        "admin.facilities.level": {"vi": "Tuyến", "en": "Level"},
        "admin.facilities.district": {"vi": "Quận/huyện", "en": "District"},
        "admin.facilities.client": {"vi": "Đã kết nối API", "en": "API client linked"},
        "admin.facilities.add": {"vi": "Thêm cơ sở", "en": "Add a facility"},
        "admin.facilities.none_district": {"vi": "(không)", "en": "(none)"},
        "admin.level.central": {"vi": "Trung ương", "en": "Central"},
        "admin.level.city": {"vi": "Thành phố", "en": "City"},
        "admin.level.district": {"vi": "Quận/huyện", "en": "District"},
        "admin.level.commune": {"vi": "Xã/phường", "en": "Commune"},
        "admin.level.private": {"vi": "Tư nhân", "en": "Private"},
        "admin.authorities": {"vi": "Cơ quan cấp phiếu lý lịch tư pháp", "en": "Judicial record issuing authorities"},
        "admin.authorities.intro": {
            "vi": "Cơ quan cấp phiếu theo thời kỳ là cấu hình (Luật sửa đổi có hiệu lực "
            "01/07/2026 chuyển từ Sở Tư pháp sang Công an thành phố). Hồ sơ thuộc cơ quan "
            "có thẩm quyền vào ngày nộp. Thay đổi bằng bản phát hành, không qua biểu mẫu.",
            "en": "The authority per period is configuration (the amended law moves issuing from "
            "the Department of Justice to the City Police on 1 July 2026). A request "
            "belongs to the authority in force on its submission day. Changed by a "
            "release, not by a form.",
        },
        "admin.authorities.from": {"vi": "Từ ngày", "en": "From"},
        "admin.authorities.to": {"vi": "Đến ngày", "en": "To"},
        "admin.authorities.code": {"vi": "Mã đơn vị", "en": "Unit code"},
        "admin.authorities.name": {"vi": "Cơ quan", "en": "Authority"},
        "admin.authorities.current": {"vi": "Đang có hiệu lực", "en": "In force"},
        "admin.authorities.open": {"vi": "(không thời hạn)", "en": "(open-ended)"},
    }
)
