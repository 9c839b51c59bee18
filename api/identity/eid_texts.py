"""Vietnamese and English texts for the e-ID (VNeID) login error codes of ``adapters.vneid``."""

from __future__ import annotations

from api.platform import i18n

_RETRY_VI, _RETRY_EN = "vui lòng đăng nhập lại", "please sign in again"

i18n.register({
    "identity.eid_unavailable": {"vi": "Không kết nối được VNeID, vui lòng thử lại sau",
                                 "en": "VNeID cannot be reached; please retry later"},
    "identity.eid_discovery_invalid": {"vi": "Cấu hình VNeID không hợp lệ, vui lòng thử lại sau",
                                       "en": "The VNeID provider configuration is invalid; please retry later"},
    "identity.eid_code_rejected": {"vi": f"VNeID từ chối mã xác thực; {_RETRY_VI}",
                                   "en": f"VNeID refused the authorization code; {_RETRY_EN}"},
    "identity.eid_token_invalid": {"vi": f"Thông tin định danh từ VNeID không hợp lệ; {_RETRY_VI}",
                                   "en": f"The identity token from VNeID is invalid; {_RETRY_EN}"},
    "identity.eid_key_unknown": {"vi": f"Khóa ký của VNeID không xác định; {_RETRY_VI}",
                                 "en": f"The identity token is signed with an unknown key; {_RETRY_EN}"},
    "identity.eid_issuer_mismatch": {"vi": f"Thông tin định danh không do VNeID cấp; {_RETRY_VI}",
                                     "en": f"The identity token was not issued by VNeID; {_RETRY_EN}"},
    "identity.eid_response_issuer_mismatch": {
        "vi": f"Kết quả đăng nhập đến từ nhà cung cấp định danh khác (tham số iss); {_RETRY_VI}",
        "en": f"The login response names another identity provider (iss parameter); {_RETRY_EN}"},
    "identity.eid_audience_mismatch": {"vi": f"Thông tin định danh không dành cho ứng dụng này; {_RETRY_VI}",
                                       "en": f"The identity token is meant for another application; {_RETRY_EN}"},
    "identity.eid_token_expired": {"vi": f"Thông tin định danh đã hết hạn; {_RETRY_VI}",
                                   "en": f"The identity token has expired; {_RETRY_EN}"},
    "identity.eid_token_not_yet_valid": {"vi": f"Thông tin định danh chưa có hiệu lực; {_RETRY_VI}",
                                         "en": f"The identity token is not valid yet; {_RETRY_EN}"},
    "identity.eid_nonce_mismatch": {"vi": f"Phiên đăng nhập không khớp; {_RETRY_VI}",
                                    "en": f"The identity token belongs to another login; {_RETRY_EN}"},
    "identity.eid_userinfo_mismatch": {"vi": f"Thông tin người dùng từ VNeID không khớp; {_RETRY_VI}",
                                       "en": f"VNeID user information does not match the token; {_RETRY_EN}"},
    "identity.eid_claims_invalid": {"vi": "VNeID không cung cấp đủ thông tin định danh (số định danh, họ tên, mức)",
                                    "en": "VNeID did not provide the required identity data (ID number, name, level)"},
})
