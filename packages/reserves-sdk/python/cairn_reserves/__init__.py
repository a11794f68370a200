"""Cairn reserves SDK for Python: a client of the reserves API (v1) and a verifier of proofs
(format v1), on the standard library alone."""

from .client import API_PREFIX, ReservesApiError, ReservesClient, ReservesDeprecationWarning
from .keccak import keccak256
from .verifier import (
    HASH_NAMES,
    ProofError,
    VerifyResult,
    VerifyStep,
    hash_fn,
    leaf_hash,
    node_hash,
    padding_hash,
    parse_proof,
    user_hash,
    verify_proof,
)

__version__ = "0.1.0"

__all__ = [
    "API_PREFIX",
    "HASH_NAMES",
    "ProofError",
    "ReservesApiError",
    "ReservesClient",
    "ReservesDeprecationWarning",
    "VerifyResult",
    "VerifyStep",
    "hash_fn",
    "keccak256",
    "leaf_hash",
    "node_hash",
    "padding_hash",
    "parse_proof",
    "user_hash",
    "verify_proof",
]
