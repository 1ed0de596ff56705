"""The portal's cryptographic core: pure functions over bytes and file-like objects.

No Flask, no database, no logging. The API is documented in docs/crypto-api.md and the byte formats
in SECURITY.md.
"""

from ._format import FORMAT_VERSION
from .acknowledgement import (
    BadAcknowledgement,
    commit,
    commitment_salt,
    new_signing_key,
    sign_acknowledgement,
    signing_public_key,
    verify_acknowledgement,
)
from .chain import GENESIS as AUDIT_GENESIS
from .chain import audit_link
from .consent import (
    BadConsent,
    consent_statement,
    discloser_key_tag,
    sign_consent,
    verify_consent,
    verify_discloser_key_tag,
)
from .errors import (
    BadParameters,
    CryptoError,
    DecryptionError,
    ReceiptTypo,
    UnsupportedVersion,
    WrongPassphrase,
)
from .fields import aead_decrypt, aead_encrypt, decrypt_field, encrypt_field
from .kdf import (
    FAST_TEST_PARAMS,
    PASSPHRASE_PARAMS,
    RECEIPT_PARAMS,
    KdfParams,
    argon2id,
    derive_subkey,
)
from .keys import (
    generate_keypair,
    key_fingerprint,
    public_key_of,
    unwrap_private_key,
    wrap_private_key,
    wrapped_params,
)
from .receipt import (
    ReceiptIdentity,
    derive_receipt_identity,
    new_install_salt,
    new_receipt,
    normalise_receipt,
)
from .recovery import RecoveryShareError, new_recovery_key, recovery_private_key
from .seal import new_case_key, open_sealed, seal_to
from .sessionbox import join_secret, split_secret
from .stream import (
    CHUNK_SIZE,
    StreamEncryptor,
    attachment_ad,
    decrypt_stream,
    encrypt_stream,
    iter_decrypt,
    stream_key,
)

__all__ = [
    "RecoveryShareError",
    "new_recovery_key",
    "recovery_private_key",
    "FORMAT_VERSION",
    "CryptoError",
    "DecryptionError",
    "WrongPassphrase",
    "BadParameters",
    "UnsupportedVersion",
    "ReceiptTypo",
    "KdfParams",
    "PASSPHRASE_PARAMS",
    "RECEIPT_PARAMS",
    "FAST_TEST_PARAMS",
    "argon2id",
    "derive_subkey",
    "generate_keypair",
    "public_key_of",
    "key_fingerprint",
    "wrap_private_key",
    "unwrap_private_key",
    "wrapped_params",
    "new_case_key",
    "seal_to",
    "open_sealed",
    "encrypt_field",
    "decrypt_field",
    "aead_encrypt",
    "aead_decrypt",
    "audit_link",
    "AUDIT_GENESIS",
    "CHUNK_SIZE",
    "StreamEncryptor",
    "encrypt_stream",
    "decrypt_stream",
    "iter_decrypt",
    "stream_key",
    "attachment_ad",
    "new_receipt",
    "normalise_receipt",
    "derive_receipt_identity",
    "new_install_salt",
    "ReceiptIdentity",
    "split_secret",
    "BadAcknowledgement",
    "new_signing_key",
    "signing_public_key",
    "sign_acknowledgement",
    "verify_acknowledgement",
    "commitment_salt",
    "commit",
    "join_secret",
    "BadConsent",
    "consent_statement",
    "sign_consent",
    "verify_consent",
    "discloser_key_tag",
    "verify_discloser_key_tag",
]
