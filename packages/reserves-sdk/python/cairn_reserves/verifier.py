"""Checks a Cairn proof of liabilities, format v1 (docs/reserves/proof-format.md).

The same checks, in the same order and with the same reasons, as the reference verifier
(packages/reserves/src/verifier): ``parse_proof`` checks the shape of untrusted JSON,
``verify_proof`` recomputes the user's leaf, folds the path bottom-up, refuses any sum >= 2^128 and
compares the root hash, every root total and, when given, the root published elsewhere. It never
raises on bad input. Only the standard library (and the vendored Keccak-256) is used.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .keccak import keccak256

TAG_USER = 0x00
TAG_LEAF = 0x01
TAG_PADDING = 0x02
TAG_NODE = 0x03

HASH_NAMES = ("sha256", "keccak256")
MAX_DEPTH = 48
MAX_CURRENCIES = 64
MAX_USER_ID_BYTES = 256
U128_BYTES = 16
U128_LIMIT = 1 << 128

HashFn = Callable[[bytes], bytes]

_SYMBOL = re.compile(r"[A-Za-z0-9._-]{1,16}")
_SYMBOL_TEXT = "/^[A-Za-z0-9._-]{1,16}$/"  # how the reference verifier names the pattern
_AMOUNT = re.compile(r"0|[1-9][0-9]*")
_HEX = re.compile(r"0x[0-9a-fA-F]*")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def hash_fn(name: str) -> HashFn:
    """The hash a proof names in its ``hash`` field."""
    if name == "sha256":
        return lambda d: hashlib.sha256(d).digest()
    if name == "keccak256":
        return keccak256
    raise ValueError(f"unknown hash {name}")


# --- encoding --------------------------------------------------------------------------------


def utf8(text: str) -> bytes:
    """UTF-8 as JavaScript's TextEncoder writes it (a lone surrogate becomes U+FFFD)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text).encode("utf-8")


def user_hash(h: HashFn, salt: bytes, user_id: str) -> bytes:
    """``H(0x00 ‖ salt ‖ utf8(userId))``."""
    return h(bytes([TAG_USER]) + salt + utf8(user_id))


def leaf_hash(h: HashFn, u_hash: bytes, balances: bytes) -> bytes:
    """``H(0x01 ‖ userHash ‖ B)``."""
    return h(bytes([TAG_LEAF]) + u_hash + balances)


def padding_hash(h: HashFn, random: bytes) -> bytes:
    """``H(0x02 ‖ 32 random bytes)``."""
    return h(bytes([TAG_PADDING]) + random)


def node_hash(h: HashFn, hash_l: bytes, balances_l: bytes, hash_r: bytes, balances_r: bytes) -> bytes:
    """``H(0x03 ‖ hashL ‖ B_L ‖ hashR ‖ B_R)``."""
    return h(bytes([TAG_NODE]) + hash_l + balances_l + hash_r + balances_r)


def encode_balances(values: list[int]) -> bytes:
    """Balances (each a u128) as 16 bytes big-endian each, in currency order: the ``B`` of the format."""
    return b"".join(v.to_bytes(U128_BYTES, "big") for v in values)


def decode_balances(b: bytes) -> list[int]:
    return [int.from_bytes(b[o : o + U128_BYTES], "big") for o in range(0, len(b), U128_BYTES)]


def to_hex(b: bytes) -> str:
    return "0x" + b.hex()


def from_hex(text: Any, length: int) -> Optional[bytes]:
    """0x-hex of exactly ``length`` bytes (either case), or None."""
    if not isinstance(text, str) or len(text) != 2 + length * 2 or not _HEX.fullmatch(text):
        return None
    return bytes.fromhex(text[2:])


def parse_amount(text: Any) -> Optional[int]:
    """A canonical decimal amount in [0, 2^128) ("0", "1234"), or None."""
    if not isinstance(text, str) or len(text) == 0 or len(text) > 39 or not _AMOUNT.fullmatch(text):
        return None
    v = int(text)
    return v if v < U128_LIMIT else None


# --- JavaScript's view of JSON values (for identical checks and reasons) ---------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_integer(v: Any) -> bool:
    return _is_number(v) and math.isfinite(v) and float(v).is_integer()


def _is_object(v: Any) -> bool:
    return isinstance(v, dict)


def _js_length(s: str) -> int:
    """String length in UTF-16 code units, as JavaScript counts it."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def _js_keys(d: dict) -> list[str]:
    """Object.keys order: array-index keys ascending, then the others in insertion order."""
    index = sorted((k for k in d if _ARRAY_INDEX.fullmatch(k) and int(k) < 2**32 - 1), key=int)
    return index + [k for k in d if k not in set(index)]


def _js_stringify(v: Any, missing: bool = False) -> str:
    if missing:
        return "undefined"
    if _is_number(v):
        return str(int(v)) if _is_integer(v) else repr(v)
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


# --- parsing ---------------------------------------------------------------------------------


class ProofError(ValueError):
    """A JSON value that is not a v1 proof; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _check_node(v: Any, width: int, what: str) -> Optional[str]:
    if not _is_object(v):
        return f"{what} is not an object"
    if from_hex(v.get("hash"), 32) is None:
        return f"{what}.hash is not 32 bytes of 0x-hex"
    bal = v.get("balances")
    if not isinstance(bal, list) or len(bal) != width:
        return f"{what}.balances must list {width} amount(s), one per currency"
    for i, a in enumerate(bal):
        if parse_amount(a) is None:
            return f"{what}.balances[{i}] is not a decimal integer in [0, 2^128)"
    return None


def parse_proof(data: Any) -> dict:
    """Checks that untrusted JSON has the exact shape of a v1 proof; raises ProofError if not.

    It does not check any hash: that is ``verify_proof``'s job.
    """

    def fail(reason: str) -> ProofError:
        return ProofError(reason)

    if not _is_object(data):
        raise fail("a proof is a JSON object")
    if not (_is_number(data.get("version")) and data["version"] == 1):
        raise fail(
            f"unsupported proof version {_js_stringify(data.get('version'), 'version' not in data)} "
            "(this verifier reads 1)"
        )
    if data.get("hash") not in HASH_NAMES:
        raise fail(f"hash must be one of {', '.join(HASH_NAMES)}")
    sid = data.get("snapshotId")
    if not isinstance(sid, str) or _js_length(sid) == 0 or _js_length(sid) > 128:
        raise fail("snapshotId must be a non-empty string")
    cur = data.get("currencies")
    if not isinstance(cur, list) or len(cur) == 0 or len(cur) > MAX_CURRENCIES:
        raise fail(f"currencies must list 1 to {MAX_CURRENCIES} currencies")
    symbols: list[str] = []
    for i, c in enumerate(cur):
        if not _is_object(c) or not isinstance(c.get("symbol"), str) or not _SYMBOL.fullmatch(c["symbol"]):
            raise fail(f"currencies[{i}].symbol must match {_SYMBOL_TEXT}")
        d = c.get("decimals")
        if not _is_integer(d) or d < 0 or d > 38:
            raise fail(f"currencies[{i}].decimals must be an integer in [0, 38]")
        if c["symbol"] in symbols:
            raise fail(f"currency {c['symbol']} is listed twice")
        symbols.append(c["symbol"])
    uid = data.get("userId")
    if not isinstance(uid, str) or len(uid) == 0:
        raise fail("userId must be a non-empty string")
    if len(utf8(uid)) > MAX_USER_ID_BYTES:
        raise fail(f"userId is longer than {MAX_USER_ID_BYTES} bytes")
    if from_hex(data.get("salt"), 32) is None:
        raise fail("salt is not 32 bytes of 0x-hex")
    bal = data.get("balances")
    if not _is_object(bal):
        raise fail("balances must be an object keyed by currency symbol")
    for k in _js_keys(bal):
        if k not in symbols:
            raise fail(f"balances has unknown currency {k}")
    for s in symbols:
        if parse_amount(bal.get(s)) is None:
            raise fail(f"balances.{s} must be a decimal integer string in [0, 2^128)")
    path = data.get("path")
    if not isinstance(path, list) or len(path) > MAX_DEPTH:
        raise fail(f"path must have at most {MAX_DEPTH} nodes")
    depth = len(path)
    li = data.get("leafIndex")
    if not _is_integer(li) or abs(li) > 2**53 - 1 or li < 0:
        raise fail("leafIndex must be a non-negative integer")
    if li >= 2**depth:
        raise fail(f"leafIndex {_js_stringify(li)} does not fit a tree of depth {depth}")
    for i, n in enumerate(path):
        bad = _check_node(n, len(cur), f"path[{i}]")
        if bad:
            raise fail(bad)
    bad = _check_node(data.get("root"), len(cur), "root")
    if bad:
        raise fail(bad)
    return data


# --- verifying -------------------------------------------------------------------------------


@dataclass
class VerifyStep:
    """One level of the folded path: the running node and its sibling."""

    level: int
    side: str  # "left" or "right": the running node's side at this level
    node: dict
    sibling: dict


@dataclass
class VerifyResult:
    """``ok`` is True only when every check passed; ``reason`` says why not."""

    ok: bool
    reason: Optional[str] = None
    leaf_hash: Optional[str] = None
    computed_root: Optional[str] = None
    steps: list[VerifyStep] = field(default_factory=list)


def verify_proof(data: Any, expected_root: Optional[str] = None, hash: Optional[HashFn] = None) -> VerifyResult:
    """Verifies an inclusion proof (any JSON value), optionally against a root published elsewhere.

    >>> r = verify_proof(json.load(open("proof.json")), expected_root="0x…")
    >>> r.ok or print(r.reason)
    """
    try:
        p = parse_proof(data)
    except ProofError as e:
        return VerifyResult(ok=False, reason=e.reason)
    h = hash or hash_fn(p["hash"])
    leaf_index = int(p["leafIndex"])
    amounts = [parse_amount(p["balances"][c["symbol"]]) for c in p["currencies"]]
    run_bal = encode_balances(amounts)  # type: ignore[arg-type]
    run_hash = leaf_hash(h, user_hash(h, from_hex(p["salt"], 32), p["userId"]), run_bal)  # type: ignore[arg-type]
    leaf = to_hex(run_hash)
    steps: list[VerifyStep] = []
    for level, sib in enumerate(p["path"]):
        sib_hash = from_hex(sib["hash"], 32)
        sib_amounts = [parse_amount(a) for a in sib["balances"]]
        left = (leaf_index >> level) % 2 == 0
        steps.append(
            VerifyStep(
                level=level,
                side="left" if left else "right",
                node={"hash": to_hex(run_hash), "balances": [str(v) for v in decode_balances(run_bal)]},
                sibling={"hash": sib["hash"].lower(), "balances": sib["balances"]},
            )
        )
        sums = [a + b for a, b in zip(decode_balances(run_bal), sib_amounts)]  # type: ignore[operator]
        if any(s >= U128_LIMIT for s in sums):
            return VerifyResult(ok=False, reason=f"a sum at level {level + 1} reaches 2^128", leaf_hash=leaf, steps=steps)
        sib_bal = encode_balances(sib_amounts)  # type: ignore[arg-type]
        if left:
            run_hash = node_hash(h, run_hash, run_bal, sib_hash, sib_bal)  # type: ignore[arg-type]
        else:
            run_hash = node_hash(h, sib_hash, sib_bal, run_hash, run_bal)  # type: ignore[arg-type]
        run_bal = encode_balances(sums)
    computed = to_hex(run_hash)

    def failed(reason: str) -> VerifyResult:
        return VerifyResult(ok=False, reason=reason, leaf_hash=leaf, computed_root=computed, steps=steps)

    if run_hash != from_hex(p["root"]["hash"], 32):
        return failed(f"the path folds to {computed}, not the root {p['root']['hash']}")
    totals = decode_balances(run_bal)
    for i, c in enumerate(p["currencies"]):
        if totals[i] != parse_amount(p["root"]["balances"][i]):
            return failed(f"the {c['symbol']} total folds to {totals[i]}, not {p['root']['balances'][i]}")
    if expected_root is not None:
        want = from_hex(expected_root, 32)
        if want is None or want != run_hash:
            return failed(f"the root {computed} is not the expected {expected_root}")
    return VerifyResult(ok=True, leaf_hash=leaf, computed_root=computed, steps=steps)
