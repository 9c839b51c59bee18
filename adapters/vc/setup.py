"""Building the e-certificate adapters from configuration (what the API's container calls once per
process): the authorities' VC key rings and their PDF signers.

Development (``generate=True``) creates ES256 keys and a local CA with one signing certificate per
authority under ``keys_dir``; production points ``keys_dir`` at provisioned PEM keys and passes
HSM-backed ``pyhanko`` signers in ``pdf_signers`` (docs/judicial.md, "Signing keys").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters.vc.credential import Issuers, VcJwtSigner
from adapters.vc.dev_ca import ensure_dev_pki
from adapters.vc.pdf import PadesSigner, PdfRenderer
from adapters.vc.status_list import Publisher
from domain.judicial.authority import AuthoritySchedule


@dataclass(frozen=True)
class Certificates:
    issuers: Issuers
    signer: VcJwtSigner
    renderer: PdfRenderer
    publisher: Publisher
    trust_roots: tuple[Path, ...]    # CA certificates a PDF validator should trust (development)


def build(keys_dir: Path, authorities: AuthoritySchedule, base_url: str, *, generate: bool,
          pdf_signers: dict[str, PadesSigner] | None = None) -> Certificates:
    codes = tuple(dict.fromkeys(p.code for p in authorities.periods))
    issuers = Issuers.load(keys_dir / "vc", codes, base_url, generate=generate)
    roots: list[Path] = []
    signers = dict(pdf_signers or {})
    for period in authorities.periods:
        if period.code in signers:
            continue
        if not generate:
            raise ValueError(f"no PDF signer configured for authority {period.code}")
        key, cert, root = ensure_dev_pki(keys_dir / "pki", period.code, period.name_en)
        signers[period.code] = PadesSigner.from_files(key, cert, (root,), period.name_vi)
        roots.append(root)
    return Certificates(issuers=issuers, signer=VcJwtSigner(issuers), renderer=PdfRenderer(signers),
                        publisher=Publisher(issuers), trust_roots=tuple(dict.fromkeys(roots)))
