"""A client of the Cairn reserves service (API v1) on urllib: snapshots, proofs, their verification.

Every error answer becomes a ``ReservesApiError`` carrying the service's stable code
(``RESERVES_…``), the HTTP status and the hint; a route the service marks deprecated (its
``Deprecation`` header, RFC 9745) raises a ``ReservesDeprecationWarning`` naming its ``Sunset``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any, Optional

from .verifier import VerifyResult, verify_proof

API_PREFIX = "/v1"


class ReservesApiError(Exception):
    """An error answer of the service (or no answer: ``status`` 0, code ``SDK_NETWORK``)."""

    def __init__(self, code: str, status: int, message: str, hint: Optional[str] = None, body: Any = None):
        super().__init__(f"{code} ({status}): {message}" + (f" — {hint}" if hint else ""))
        self.code = code
        self.status = status
        self.message = message
        self.hint = hint
        self.body = body

    @property
    def transient(self) -> bool:
        """Worth retrying later: no answer, 429 or a 5xx."""
        return self.status == 0 or self.status == 429 or self.status >= 500


class ReservesDeprecationWarning(DeprecationWarning):
    """The service marked a route deprecated (``Deprecation`` header); ``sunset`` is when it goes."""

    def __init__(self, route: str, deprecation: str, sunset: Optional[str], link: Optional[str]):
        super().__init__(
            f"{route} is deprecated (since {deprecation})"
            + (f", removed after {sunset}" if sunset else "")
            + (f"; see {link}" if link else "")
        )
        self.route = route
        self.deprecation = deprecation
        self.sunset = sunset
        self.link = link


class ReservesClient:
    """The reserves API for one principal: a bearer ``token`` (JWT) or an ``api_key``."""

    def __init__(
        self,
        base_url: str,
        token: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = 30.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.api_key = api_key
        self.timeout = timeout

    # --- transport -----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        query: Optional[dict] = None,
        body: Optional[bytes] = None,
        content_type: Optional[str] = None,
    ) -> Any:
        url = self.base_url + path
        q = {k: str(v) for k, v in (query or {}).items() if v is not None}
        if q:
            url += "?" + urllib.parse.urlencode(q)
        headers = {"accept": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        if self.api_key:
            headers["x-api-key"] = self.api_key
        if content_type:
            headers["content-type"] = content_type
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                self._note_deprecation(method, path, res.headers)
                text = res.read()
        except urllib.error.HTTPError as e:
            self._note_deprecation(method, path, e.headers)
            raw = e.read()
            try:
                err = json.loads(raw)
            except ValueError:
                err = None
            if isinstance(err, dict) and isinstance(err.get("code"), str):
                raise ReservesApiError(err["code"], e.code, str(err.get("message", "")), err.get("hint"), err) from None
            raise ReservesApiError("SDK_BAD_RESPONSE", e.code, raw[:200].decode("utf-8", "replace")) from None
        except (urllib.error.URLError, OSError) as e:
            raise ReservesApiError("SDK_NETWORK", 0, f"{method} {url}: {e}") from e
        try:
            return json.loads(text) if text else None
        except ValueError:
            raise ReservesApiError("SDK_BAD_RESPONSE", 200, "the answer is not JSON") from None

    def _note_deprecation(self, method: str, path: str, headers: Any) -> None:
        if headers is None or not headers.get("deprecation"):
            return
        warnings.warn(
            ReservesDeprecationWarning(
                f"{method} {path}", headers.get("deprecation"), headers.get("sunset"), headers.get("link")
            ),
            stacklevel=4,
        )

    @staticmethod
    def _seg(v: str) -> str:
        return urllib.parse.quote(v, safe="")

    # --- snapshots -----------------------------------------------------------------------------

    def list_snapshots(self, cursor: Optional[str] = None, limit: Optional[int] = None) -> dict:
        """``{items, next}``, newest first; pass ``next`` as ``cursor`` for the next page."""
        return self._request("GET", f"{API_PREFIX}/snapshots", {"cursor": cursor, "limit": limit})

    def get_snapshot(self, snapshot_id: str) -> dict:
        """Status, hash, currencies, root, anchor (and for staff depth, minDepth, userCount)."""
        return self._request("GET", f"{API_PREFIX}/snapshots/{self._seg(snapshot_id)}")

    def wait_for_snapshot(self, snapshot_id: str, timeout: float = 60.0, interval: float = 0.2) -> dict:
        """Polls until the snapshot is built (returned) or failed (raises); TimeoutError past ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.get_snapshot(snapshot_id)
            if s["status"] == "built":
                return s
            if s["status"] == "failed":
                raise ReservesApiError("SDK_SNAPSHOT_FAILED", 200, f"snapshot {snapshot_id} failed: {s.get('error')}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"snapshot {snapshot_id} still {s['status']} after {timeout} s")
            time.sleep(interval)

    def upload_snapshot(self, snapshot: dict) -> dict:
        """Admin: a JSON snapshot ``{id?, hash?, minDepth?, currencies, entries}``; answers ``{id, status}``."""
        return self._request("POST", f"{API_PREFIX}/snapshots", body=json.dumps(snapshot).encode(), content_type="application/json")

    def upload_snapshot_csv(
        self,
        csv: str,
        snapshot_id: Optional[str] = None,
        currencies: Optional[str] = None,
        hash: Optional[str] = None,
        min_depth: Optional[int] = None,
    ) -> dict:
        """Admin: a CSV snapshot (header ``userId,SYM…``); ``currencies`` like ``BTC:8,ETH:18``."""
        query = {"id": snapshot_id, "currencies": currencies, "hash": hash, "minDepth": min_depth}
        return self._request("POST", f"{API_PREFIX}/snapshots", query, csv.encode(), "text/csv")

    def get_public_anchor(self, snapshot_id: str) -> dict:
        """Anyone: the anchored root, totals and anchor (404 before the snapshot is anchored)."""
        return self._request("GET", f"{API_PREFIX}/snapshots/{self._seg(snapshot_id)}/anchor")

    # --- proofs --------------------------------------------------------------------------------

    def get_my_proof(self, snapshot_id: str) -> dict:
        """User: their own inclusion proof."""
        return self._request("GET", f"{API_PREFIX}/snapshots/{self._seg(snapshot_id)}/proof")

    def get_user_proof(self, snapshot_id: str, user_id: str) -> dict:
        """Admin or auditor: any user's proof (recorded in the audit log)."""
        return self._request("GET", f"{API_PREFIX}/snapshots/{self._seg(snapshot_id)}/proofs/{self._seg(user_id)}")

    def get_proofs(self, snapshot_id: str, user_ids: list[str]) -> dict:
        """Admin or auditor: up to 1,000 proofs, ``{proofs, missing}``."""
        body = json.dumps({"userIds": user_ids}).encode()
        return self._request("POST", f"{API_PREFIX}/snapshots/{self._seg(snapshot_id)}/proofs/batch", body=body, content_type="application/json")

    def verify_my_proof(self, snapshot_id: str, expected_root: Optional[str] = None) -> tuple[dict, VerifyResult, str]:
        """Fetches the caller's proof and verifies it locally.

        The root it must fold to is ``expected_root`` when given (one published elsewhere: the best
        check), else the snapshot's public anchor when it has one, else the root the service shows
        for the snapshot. Returns ``(proof, result, root_source)`` with ``root_source`` one of
        ``given``, ``anchor``, ``snapshot``.
        """
        proof = self.get_my_proof(snapshot_id)
        source = "given"
        if expected_root is None:
            snap = self.get_snapshot(snapshot_id)
            if snap.get("anchor"):
                expected_root, source = self.get_public_anchor(snapshot_id)["root"]["hash"], "anchor"
            elif snap.get("root"):
                expected_root, source = snap["root"]["hash"], "snapshot"
        return proof, verify_proof(proof, expected_root=expected_root), source
