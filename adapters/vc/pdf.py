"""The certificate for people: a Vietnamese A4 PDF with a QR code to the verification link,
signed PAdES (ETSI.CAdES.detached) with the authority's certificate so PDF readers show it valid.

Layout with reportlab; the text font is Source Sans Pro (SIL OFL, shipped in the
``font-source-sans-pro`` wheel) because it has every Vietnamese precomposed letter (ơ, ư, đ,
ắ … ỹ); reportlab embeds the subset it uses with a ToUnicode map, so copying or extracting the
text gives the same letters back. The QR is a PNG image (``qrcode``) so any scanner — and a
test with a real decoder — reads it.

Signing goes through ``pyhanko.sign.signers.Signer``: ``PadesSigner.from_files`` for a PEM key
and certificate chain (the development CA); production passes a ``pyhanko.sign.pkcs11``
signer bound to the HSM slot instead (docs/judicial.md).
"""

from __future__ import annotations

import io
import unicodedata
from datetime import datetime
from pathlib import Path

import font_source_sans_pro  # type: ignore[import-untyped]
import qrcode
from pyhanko import keys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped]

from domain.judicial.model import CertificateContent, CertificateType, Sex
from domain.shared.time import HANOI

FONT_DIR = Path(font_source_sans_pro.font_directory)
REGULAR, BOLD = "SourceSansPro", "SourceSansPro-Bold"


def _register_fonts() -> None:
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "SourceSansPro-Regular.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "SourceSansPro-Bold.ttf")))


def _nfc(text: str) -> str:
    # Vietnamese typed with combining marks (NFD) would need glyph positioning; NFC uses the
    # precomposed letters the font has.
    return unicodedata.normalize("NFC", text)


def _qr_png(url: str) -> bytes:
    img = qrcode.make(url, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def _date(d: datetime) -> str:
    local = d.astimezone(HANOI)
    return f"ngày {local.day:02d} tháng {local.month:02d} năm {local.year}"


def layout(c: CertificateContent) -> bytes:
    """The unsigned PDF."""
    _register_fonts()
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    pdf.setTitle(_nfc(f"Phiếu lý lịch tư pháp số {c.certificate_type.value} - {c.number}"))
    pdf.setAuthor(_nfc(c.authority_name_vi))
    pdf.setSubject(_nfc("Phiếu lý lịch tư pháp"))
    width, height = A4
    y = height - 20 * mm

    def centre(text: str, font: str = REGULAR, size: float = 11) -> None:
        nonlocal y
        pdf.setFont(font, size)
        pdf.drawCentredString(width / 2, y, _nfc(text))
        y -= size * 1.6

    def line(label: str, value: str) -> None:
        nonlocal y
        pdf.setFont(BOLD, 10.5)
        pdf.drawString(22 * mm, y, _nfc(label))
        pdf.setFont(REGULAR, 10.5)
        pdf.drawString(75 * mm, y, _nfc(value))
        y -= 15

    pdf.setFont(REGULAR, 10)
    pdf.drawString(20 * mm, y, _nfc(c.authority_name_vi.upper()))
    pdf.drawRightString(width - 20 * mm, y, _nfc("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"))
    y -= 14
    pdf.drawString(20 * mm, y, _nfc(f"Số: {c.number}"))
    pdf.drawRightString(width - 20 * mm, y, _nfc("Độc lập - Tự do - Hạnh phúc"))
    y -= 30
    centre("PHIẾU LÝ LỊCH TƯ PHÁP SỐ " + c.certificate_type.value, BOLD, 16)
    centre(f"Hà Nội, {_date(c.issued_at)}", REGULAR, 10)
    y -= 6
    line("Họ và tên:", c.full_name)
    line("Giới tính:", "Nữ" if c.sex is Sex.FEMALE else "Nam")
    line("Ngày, tháng, năm sinh:", c.date_of_birth.strftime("%d/%m/%Y"))
    line("Nơi sinh:", c.place_of_birth)
    line("Quốc tịch:", "Việt Nam" if c.nationality == "VN" else c.nationality)
    line("Nơi thường trú:", c.permanent_residence)
    line("Giấy tờ tùy thân:", f"{c.id_document_kind.upper()} số {c.id_document_number}")
    line("Họ tên cha:", c.father_name)
    line("Họ tên mẹ:", c.mother_name)
    line("Mục đích sử dụng:", c.purpose)
    y -= 6
    pdf.setFont(BOLD, 11)
    pdf.drawString(22 * mm, y, _nfc("TÌNH TRẠNG ÁN TÍCH"))
    y -= 16
    pdf.setFont(REGULAR, 10.5)
    if not c.convictions:
        pdf.drawString(22 * mm, y, _nfc("Không có án tích."))
        y -= 15
    for i, x in enumerate(c.convictions, 1):
        mark = " (đã được xóa án tích)" if x.expunged else ""
        pdf.drawString(22 * mm, y, _nfc(f"{i}. {x.judgment}: {x.offence}; {x.sentence}{mark}"))
        y -= 15
    if c.certificate_type is CertificateType.NO2:
        y -= 4
        pdf.setFont(BOLD, 11)
        pdf.drawString(22 * mm, y, _nfc("THÔNG TIN VỀ VIỆC CẤM ĐẢM NHIỆM CHỨC VỤ, THÀNH LẬP, QUẢN LÝ DOANH NGHIỆP"))
        y -= 16
        pdf.setFont(REGULAR, 10.5)
        texts = [f"{b.text} ({b.decision})" if b.decision else b.text for b in c.bans] or [
            "Không bị cấm đảm nhiệm chức vụ, thành lập, quản lý doanh nghiệp, hợp tác xã."]
        for t in texts:
            pdf.drawString(22 * mm, y, _nfc(t))
            y -= 15
    qr = ImageReader(io.BytesIO(_qr_png(c.verify_url)))
    size = 42 * mm
    pdf.drawImage(qr, 20 * mm, 28 * mm, size, size)
    pdf.setFont(REGULAR, 8.5)
    pdf.drawString(20 * mm, 24 * mm, _nfc("Quét mã QR để kiểm tra tình trạng phiếu:"))
    pdf.drawString(20 * mm, 20 * mm, c.verify_url)
    pdf.setFont(BOLD, 10.5)
    pdf.drawCentredString(width - 60 * mm, 70 * mm, _nfc("THỦ TRƯỞNG CƠ QUAN CẤP PHIẾU"))
    pdf.setFont(REGULAR, 9)
    pdf.drawCentredString(width - 60 * mm, 64 * mm, _nfc("(Đã ký số)"))
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


class PadesSigner:
    """Signs PDFs PAdES B-B with one authority's certificate (a ``pyhanko`` ``Signer``)."""

    def __init__(self, signer: signers.Signer, name: str) -> None:
        self.signer = signer
        self.name = name

    @classmethod
    def from_files(cls, key_file: Path, cert_file: Path, chain: tuple[Path, ...], name: str) -> PadesSigner:
        key = keys.load_private_key_from_pemder(str(key_file), passphrase=None)
        cert = keys.load_cert_from_pemder(str(cert_file))  # type: ignore[no-untyped-call]
        chain_certs = [keys.load_cert_from_pemder(str(p)) for p in chain]  # type: ignore[no-untyped-call]
        registry = SimpleCertificateStore.from_certs(chain_certs)  # type: ignore[no-untyped-call]
        return cls(signers.SimpleSigner(signing_cert=cert, signing_key=key, cert_registry=registry), name)

    async def sign(self, pdf: bytes, reason: str) -> bytes:
        meta = signers.PdfSignatureMetadata(field_name="ChuKySo", md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES, reason=reason,
                                            location="Hà Nội", name=self.name)
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = await signers.PdfSigner(meta, self.signer).async_sign_pdf(writer, output=io.BytesIO())
        return out.getvalue()  # type: ignore[no-any-return]


class PdfRenderer:
    """``CertificateRenderer`` port: layout, then the signature of the certificate's authority."""

    def __init__(self, signers_by_authority: dict[str, PadesSigner]) -> None:
        self.signers = signers_by_authority

    async def render(self, content: CertificateContent) -> bytes:
        signer = self.signers[content.authority_code]
        return await signer.sign(layout(content), reason=_nfc(f"Phiếu lý lịch tư pháp {content.number}"))
