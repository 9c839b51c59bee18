"""Vietnamese and English texts of the health error codes."""

from __future__ import annotations

from api.platform import i18n

i18n.register({
    "health.record_not_found": {"vi": "Không tìm thấy hồ sơ sức khỏe", "en": "The health record was not found"},
    "health.resource_not_found": {"vi": "Không tìm thấy dữ liệu", "en": "The resource was not found"},
    "health.item_not_found": {"vi": "Không tìm thấy mục này trong hồ sơ", "en": "The record entry was not found"},
    "health.share_not_found": {"vi": "Mã chia sẻ không tồn tại, đã hết hạn hoặc đã bị thu hồi",
                               "en": "The share code is unknown, expired or revoked"},
    "health.share_own": {"vi": "Không thể tự nhận mã chia sẻ của chính mình", "en": "You cannot redeem your own share"},
    "health.share_duration": {"vi": "Thời hạn chia sẻ từ 1 giờ đến 7 ngày",
                              "en": "A share lasts from 1 hour to 7 days"},
    "health.share_recipient": {"vi": "Cần ghi người nhận", "en": "Name the recipient"},
    "health.share_readers_only": {"vi": "Chỉ bác sĩ hoặc cơ sở y tế được nhận mã chia sẻ",
                                  "en": "Only doctors and facilities can redeem a share"},
    "health.level2_required": {"vi": "Cần tài khoản định danh điện tử mức 2",
                               "en": "A level-2 e-ID account is required"},
    "health.citizens_only": {"vi": "Chỉ dành cho công dân", "en": "For citizens only"},
    "health.not_a_facility": {"vi": "Chỉ cơ sở y tế được gửi dữ liệu khám chữa bệnh",
                              "en": "Only medical facilities may send visit data"},
    "health.facility_not_registered": {"vi": "Cơ sở y tế chưa được đăng ký hoặc đã ngừng",
                                       "en": "The facility is not registered or inactive"},
    "health.bundle_invalid": {"vi": "Gói dữ liệu FHIR không hợp lệ", "en": "The FHIR bundle is invalid"},
    "health.encounter_concurrent": {"vi": "Lượt khám đang được gửi đồng thời, vui lòng gửi lại",
                                    "en": "The same visit is being sent concurrently; retry"},
    "health.search_not_supported": {"vi": "Không hỗ trợ tìm kiếm này", "en": "This search is not supported"},
    "health.city_admin_only": {"vi": "Chỉ quản trị thành phố", "en": "City administrators only"},
    "health.facility_code": {"vi": "Mã cơ sở không hợp lệ", "en": "Invalid facility code"},
    "health.facility_name": {"vi": "Cần tên cơ sở", "en": "The facility needs a name"},
    "health.facility_code_taken": {"vi": "Mã cơ sở đã tồn tại", "en": "The facility code is taken"},
    "health.facility_district": {"vi": "Quận/huyện không tồn tại", "en": "No such district"},
    "health.facility_client": {"vi": "Không có ứng dụng kết nối của cơ sở y tế với mã này",
                               "en": "No facility API client with this id"},
    "health.facility_code_fixed": {"vi": "Không đổi được mã cơ sở", "en": "A facility's code cannot change"},
    "health.facility_not_found": {"vi": "Không tìm thấy cơ sở y tế", "en": "The facility was not found"},
})
