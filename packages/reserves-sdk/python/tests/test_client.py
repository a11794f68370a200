"""The client against a scripted local HTTP server: request shape, errors, deprecation notices."""

import json
import threading
import unittest
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cairn_reserves import ReservesApiError, ReservesClient, ReservesDeprecationWarning

SEEN = []
ROUTES = {
    "GET /v1/snapshots/a%2Fb": (200, {"id": "a/b", "status": "built"}, {}),
    "GET /v1/snapshots?cursor=9&limit=2": (200, {"items": [], "next": None}, {}),
    "GET /v1/snapshots/gone": (404, {"code": "RESERVES_SNAPSHOT_UNKNOWN", "message": "snapshot gone does not exist"}, {}),
    "GET /v1/snapshots/busy": (
        429,
        {"code": "RESERVES_RATE_LIMITED", "message": "too many requests", "hint": "slow down: retry after 3 s"},
        {"retry-after": "3"},
    ),
    "GET /v1/snapshots/html": (502, "<html>bad gateway</html>", {}),
    "GET /v1/snapshots/old": (
        200,
        {"id": "old", "status": "built"},
        {"deprecation": "@1767225600", "sunset": "Fri, 01 Jan 2027 00:00:00 GMT"},
    ),
    "POST /v1/snapshots?id=s1&currencies=BTC%3A8": (202, {"id": "s1", "status": "building"}, {}),
}


class Handler(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        SEEN.append((self.command, self.path, dict(self.headers), self.rfile.read(length) if length else b""))
        status, body, headers = ROUTES.get(f"{self.command} {self.path}", (599, {"code": "NOT_SCRIPTED", "message": self.path}, {}))
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args):
        pass


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.client = ReservesClient(f"http://127.0.0.1:{cls.server.server_address[1]}/", token="tok", timeout=5)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def test_paths_are_escaped_and_credentials_sent(self):
        self.assertEqual(self.client.get_snapshot("a/b")["id"], "a/b")
        self.assertEqual(self.client.list_snapshots(cursor="9", limit=2), {"items": [], "next": None})
        method, path, headers, _ = SEEN[-1]
        self.assertEqual(headers.get("Authorization"), "Bearer tok")

    def test_csv_upload(self):
        r = self.client.upload_snapshot_csv("userId,BTC\na,1\n", snapshot_id="s1", currencies="BTC:8")
        self.assertEqual(r, {"id": "s1", "status": "building"})
        _, _, headers, body = SEEN[-1]
        self.assertEqual((headers.get("Content-Type"), body), ("text/csv", b"userId,BTC\na,1\n"))

    def test_error_answers_carry_code_status_and_hint(self):
        with self.assertRaises(ReservesApiError) as e:
            self.client.get_snapshot("gone")
        self.assertEqual((e.exception.code, e.exception.status, e.exception.transient), ("RESERVES_SNAPSHOT_UNKNOWN", 404, False))
        with self.assertRaises(ReservesApiError) as e:
            self.client.get_snapshot("busy")
        self.assertEqual((e.exception.code, e.exception.hint, e.exception.transient), ("RESERVES_RATE_LIMITED", "slow down: retry after 3 s", True))
        with self.assertRaises(ReservesApiError) as e:
            self.client.get_snapshot("html")
        self.assertEqual((e.exception.code, e.exception.status), ("SDK_BAD_RESPONSE", 502))

    def test_a_deprecated_route_warns_with_its_sunset(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.client.get_snapshot("old")
        w = [x.message for x in caught if isinstance(x.message, ReservesDeprecationWarning)]
        self.assertEqual(len(w), 1)
        self.assertEqual((w[0].deprecation, w[0].sunset), ("@1767225600", "Fri, 01 Jan 2027 00:00:00 GMT"))
        self.assertIn("GET /v1/snapshots/old is deprecated", str(w[0]))


if __name__ == "__main__":
    unittest.main()
