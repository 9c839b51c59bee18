"""The issued e-certificate, checked with independent tools: the VC-JWT with joserfc and only the
JWKS (also after key rotation), the Bitstring Status List with a hand decoder, and the PDF with
pyhanko's validator, zxing-cpp (QR) and pypdf (text)."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from adapters.signing.keys import add_signing_key
from adapters.vc.credential import Issuers, VcJwtSigner
from adapters.vc.dev_ca import ensure_dev_pki
from adapters.vc.pdf import PadesSigner, PdfRenderer
from adapters.vc.status_list import MIN_SIZE, Publisher, bit, decode, encode, signed_list
from domain.judicial.model import (
    CertificateContent,
    CertificateType,
    Conviction,
    Sex,
    StatusPurpose,
    StatusRef,
)
from domain.shared.ids import new_id

BASE = "https://thudo.example"
NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)


def content(ctype: CertificateType = CertificateType.NO1, code: str = "S-TP") -> CertificateContent:
    return CertificateContent(
        certificate_id=new_id(), number="LLTP-2026-000042-1", certificate_type=ctype, request_ref="LLTP-2026-000042",
        authority_code=code, authority_name_vi="Sở Tư pháp Thành phố Hà Nội", authority_name_en="Hanoi DOJ",
        full_name="Nguyễn Thị Hương Trà", sex=Sex.FEMALE, date_of_birth=date(1995, 3, 14),
        place_of_birth="Xã Ước Lễ, huyện Thanh Oai, Hà Nội", nationality="VN", id_document_kind="cccd",
        id_document_number="001195012345", permanent_residence="Số 12 phố Hàng Bạc, phường Hoàn Kiếm, Hà Nội",
        father_name="Nguyễn Văn Hải", mother_name="Trần Thị Lan", purpose="Bổ sung hồ sơ xin việc",
        convictions=(Conviction(judgment="Bản án 7/2022/HS-ST", offence="Đánh bạc",
                                sentence="Phạt tiền 20.000.000 đồng"),) if ctype is CertificateType.NO2 else (),
        bans=(), issued_at=NOW, valid_until=NOW + timedelta(days=180),
        verify_url=f"{BASE}/judicial/verify/Zm9vYmFyYmF6cXV4cXV1eA")


def refs() -> tuple[StatusRef, StatusRef]:
    lid, sid = new_id(), new_id()
    return (StatusRef(list_id=lid, purpose=StatusPurpose.REVOCATION, index=94_567),
            StatusRef(list_id=sid, purpose=StatusPurpose.SUSPENSION, index=12))


def published_jwks(issuers: Issuers) -> KeySet:
    # Only what the JWKS endpoint publishes (a JSON round trip, no private parts).
    return KeySet.import_key_set(json.loads(json.dumps(issuers.jwks)))


def test_vc_jwt_verifies_with_a_generic_jose_library_and_survives_rotation(tmp_path: Path) -> None:
    issuers = Issuers.load(tmp_path, ("S-TP", "CA-TP"), BASE, generate=True)
    assert all("d" not in k for k in issuers.jwks["keys"])
    signer = VcJwtSigner(issuers)
    status = refs()
    old = signer.sign(content(), status)
    token = jose_jwt.decode(old, published_jwks(issuers), algorithms=["ES256"])
    assert token.header["typ"] == "vc+jwt"
    assert token.header["alg"] == "ES256"
    assert token.header["cty"] == "vc"
    vc = token.claims
    assert vc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert vc["type"] == ["VerifiableCredential", "JudicialRecordCertificate"]
    assert vc["issuer"]["id"] == vc["iss"] == f"{BASE}/api/v1/public/judicial/issuers/S-TP"
    assert vc["validFrom"] == "2026-03-20T03:00:00Z"
    assert vc["exp"] == int((NOW + timedelta(days=180)).timestamp())
    assert vc["credentialSubject"]["name"] == "Nguyễn Thị Hương Trà"
    assert vc["credentialSubject"]["judicialRecord"] == {"certificateType": "No1", "hasConvictions": False,
                                                         "convictions": []}
    entries = {e["statusPurpose"]: e for e in vc["credentialStatus"]}
    assert entries["revocation"]["statusListIndex"] == "94567"
    assert entries["revocation"]["statusListCredential"].endswith(f"/status-lists/{status[0].list_id}")
    # Rotation: a newer key signs from now on; the old credential still verifies with the new JWKS.
    add_signing_key(tmp_path / "S-TP")
    rotated = Issuers.load(tmp_path, ("S-TP", "CA-TP"), BASE, generate=False)
    new = VcJwtSigner(rotated).sign(content(), status)
    jwks = published_jwks(rotated)
    assert jose_jwt.decode(new, jwks).header["kid"] != token.header["kid"]
    assert jose_jwt.decode(old, jwks).claims["jti"] == vc["jti"]
    # A tampered payload does not verify.
    h, _p, sig = old.split(".")
    forged = ".".join((h, new.split(".")[1], sig))
    with pytest.raises(BadSignatureError):
        jose_jwt.decode(forged, jwks)


def test_bitstring_status_list_encoding_and_bit_flip(tmp_path: Path) -> None:
    empty = encode(MIN_SIZE, [])
    assert empty.startswith("u")
    assert "=" not in empty
    raw = decode(empty)
    assert len(raw) * 8 == MIN_SIZE == 131_072
    assert not any(raw)
    flipped = decode(encode(MIN_SIZE, [0, 94_567, MIN_SIZE - 1]))
    assert flipped[0] == 0x80  # index 0 is the left-most bit
    assert bit(flipped, 94_567)
    assert not bit(flipped, 94_566)
    assert not bit(flipped, 94_568)
    assert flipped[-1] == 0x01
    issuers = Issuers.load(tmp_path, ("S-TP",), BASE, generate=True)
    list_id = new_id()
    jwt_list = signed_list(issuers, "S-TP", list_id, "revocation", MIN_SIZE, [94_567], NOW)
    claims = jose_jwt.decode(jwt_list, published_jwks(issuers)).claims
    assert claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = claims["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert bit(decode(subject["encodedList"]), 94_567)
    assert len(jwt_list) < 2_000  # 16 KB of mostly zeros compresses to a few hundred bytes


def test_pdf_is_signed_pades_has_a_readable_qr_and_vietnamese_text(tmp_path: Path) -> None:
    key, cert, root = ensure_dev_pki(tmp_path, "S-TP", "So Tu phap Thanh pho Ha Noi")
    renderer = PdfRenderer({"S-TP": PadesSigner.from_files(key, cert, (root,), "Sở Tư pháp Hà Nội")})
    c = content(CertificateType.NO2)
    pdf = asyncio.run(renderer.render(c))

    reader = PdfFileReader(io.BytesIO(pdf))
    sig = reader.embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    vc = ValidationContext(trust_roots=[load_cert_from_pemder(str(root))], allow_fetching=False)
    status = asyncio.run(async_validate_pdf_signature(sig, vc))
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = page.extract_text()
    for phrase in ("PHIẾU LÝ LỊCH TƯ PHÁP SỐ 2", "Nguyễn Thị Hương Trà", "Xã Ước Lễ, huyện Thanh Oai",
                   "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Đánh bạc",
                   "Phạt tiền 20.000.000 đồng", "Mục đích sử dụng"):
        assert phrase in text, phrase
    images = list(page.images)
    assert len(images) == 1
    decoded = zxingcpp.read_barcodes(images[0].image)
    assert [d.text for d in decoded] == [c.verify_url]
    assert decoded[0].format == zxingcpp.BarcodeFormat.QRCode

    # A changed byte inside the signed range breaks the signature.
    start = pdf.index(b"stream") + 40  # inside the first (compressed) stream of the original file
    tampered = pdf[:start] + bytes([pdf[start] ^ 0xFF]) + pdf[start + 1:]
    broken = asyncio.run(async_validate_pdf_signature(PdfFileReader(io.BytesIO(tampered)).embedded_signatures[0], vc))
    assert not broken.intact


def test_status_list_publisher_re_signs_only_on_flip_or_expiry(tmp_path: Path) -> None:
    issuers = Issuers.load(tmp_path, ("S-TP",), BASE, generate=True)
    pub = Publisher(issuers)
    lid = new_id()
    first, until = pub.get(lid, "S-TP", "revocation", MIN_SIZE, 0, [], NOW)
    assert until == NOW + timedelta(minutes=5)
    assert pub.get(lid, "S-TP", "revocation", MIN_SIZE, 0, [], NOW + timedelta(minutes=3))[0] == first
    flipped, _ = pub.get(lid, "S-TP", "revocation", MIN_SIZE, 1, [7], NOW + timedelta(minutes=3))
    assert flipped != first
    claims = jose_jwt.decode(flipped, published_jwks(issuers)).claims
    assert bit(decode(claims["credentialSubject"]["encodedList"]), 7)
    renewed, _ = pub.get(lid, "S-TP", "revocation", MIN_SIZE, 1, [7], NOW + timedelta(minutes=7, seconds=30))
    assert renewed != flipped  # the cached one was about to expire
