"""ECDSA P-256 / SHA-256 in the wire forms of the transit QR format: 33-byte compressed public
keys and 64-byte raw ``r || s`` signatures (``cryptography`` speaks DER, so we convert)."""

from __future__ import annotations

from collections import OrderedDict

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

_CURVE = ec.SECP256R1()
_ECDSA = ec.ECDSA(hashes.SHA256())
# RFC 6979 nonces for our own signatures: no dependence on the RNG at signing time (a repeated or
# biased ECDSA nonce reveals the key), and reproducible bytes for the documented example.
_ECDSA_DETERMINISTIC = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
# Order of the P-256 group: r and s of a valid signature are in 1..N-1.
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def generate() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(_CURVE)


def from_scalar(d: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(d, _CURVE)


def public_bytes(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    """The SEC1 compressed point (33 bytes)."""
    pub = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def load_public(compressed: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, compressed)


def sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    r, s = decode_dss_signature(key.sign(data, _ECDSA_DETERMINISTIC))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_pem(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not a P-256 private key")
    return key


class P256Signer:
    """Implements ``IssuerSigner`` (with a kid) and ``DeviceSigner`` over one private key."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, kid: int = 0) -> None:
        self._key = key
        self._kid = kid
        self._public = public_bytes(key)

    @property
    def kid(self) -> int:
        return self._kid

    @property
    def public_key(self) -> bytes:
        return self._public

    def sign(self, data: bytes) -> bytes:
        return sign_raw(self._key, data)


class P256Verifier:
    """Implements ``SignatureVerifier``. Parsed public keys are kept (decompressing a point costs
    about half a verification), bounded so a stream of new device keys cannot grow it forever."""

    def __init__(self, cache_size: int = 8192) -> None:
        self._keys: OrderedDict[bytes, ec.EllipticCurvePublicKey] = OrderedDict()
        self._cache_size = cache_size

    def _key(self, compressed: bytes) -> ec.EllipticCurvePublicKey | None:
        key = self._keys.get(compressed)
        if key is None:
            try:
                key = load_public(compressed)
            except ValueError:
                return None
            self._keys[compressed] = key
            if len(self._keys) > self._cache_size:
                self._keys.popitem(last=False)
        return key

    def verify(self, public_key: bytes, signature: bytes, data: bytes) -> bool:
        if len(signature) != 64 or len(public_key) != 33:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < N and 0 < s < N):
            return False
        key = self._key(public_key)
        if key is None:
            return False
        try:
            key.verify(encode_dss_signature(r, s), data, _ECDSA)
        except InvalidSignature:
            return False
        return True
