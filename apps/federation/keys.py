"""The RSA keys a community's actor signs with (the fediverse's actors publish RSA 2048 keys)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate_rsa_keypair() -> tuple[str, str]:
    """A new RSA 2048 key pair as PEM text (private PKCS#8, public SubjectPublicKeyInfo): what the
    fediverse's actors publish as ``publicKey.publicKeyPem``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem


def load_private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)
