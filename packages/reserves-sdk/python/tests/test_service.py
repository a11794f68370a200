"""The client against a live reserves service. Skipped unless these are set (the TypeScript e2e test
packages/reserves-sdk/test/sdk.e2e.test.ts sets them after starting `cairn reserves serve`):

- CAIRN_RESERVES_URL: the service, e.g. http://127.0.0.1:8080
- CAIRN_RESERVES_TOKEN: a bearer token of role `user` whose sub is in the snapshot
- CAIRN_RESERVES_SNAPSHOT: a built snapshot's id
- CAIRN_RESERVES_USER (optional): the token's sub, checked against the proof's userId
"""

import os
import unittest

from cairn_reserves import ReservesApiError, ReservesClient, verify_proof

URL = os.environ.get("CAIRN_RESERVES_URL")
TOKEN = os.environ.get("CAIRN_RESERVES_TOKEN")
SNAPSHOT = os.environ.get("CAIRN_RESERVES_SNAPSHOT")


@unittest.skipUnless(URL and TOKEN and SNAPSHOT, "no live service: set CAIRN_RESERVES_URL, _TOKEN and _SNAPSHOT")
class LiveServiceTest(unittest.TestCase):
    def setUp(self):
        self.client = ReservesClient(URL, token=TOKEN, timeout=20)

    def test_the_snapshot_is_built_and_hides_the_user_count_from_users(self):
        s = self.client.get_snapshot(SNAPSHOT)
        self.assertEqual(s["status"], "built")
        self.assertRegex(s["root"]["hash"], r"^0x[0-9a-f]{64}$")
        self.assertNotIn("userCount", s)
        self.assertNotIn("depth", s)

    def test_the_list_shows_it(self):
        page = self.client.list_snapshots(limit=10)
        self.assertIn(SNAPSHOT, [x["id"] for x in page["items"]])

    def test_my_proof_verifies_against_the_published_root(self):
        proof, result, source = self.client.verify_my_proof(SNAPSHOT)
        self.assertTrue(result.ok, result.reason)
        self.assertIn(source, ("snapshot", "anchor"))
        if os.environ.get("CAIRN_RESERVES_USER"):
            self.assertEqual(proof["userId"], os.environ["CAIRN_RESERVES_USER"])
        # the same proof against another root, or tampered, does not
        other = "0x" + "ab" * 32
        self.assertFalse(verify_proof(proof, expected_root=other).ok)
        sym = proof["currencies"][0]["symbol"]
        proof["balances"][sym] = str(int(proof["balances"][sym]) + 1)
        self.assertIn("the path folds to", verify_proof(proof).reason)

    def test_errors_carry_the_service_code_and_status(self):
        with self.assertRaises(ReservesApiError) as e:
            self.client.get_snapshot("no-such-snapshot")
        self.assertEqual((e.exception.code, e.exception.status), ("RESERVES_SNAPSHOT_UNKNOWN", 404))
        with self.assertRaises(ReservesApiError) as e:
            ReservesClient(URL, token="not-a-token").get_snapshot(SNAPSHOT)
        self.assertEqual((e.exception.code, e.exception.status), ("RESERVES_UNAUTHENTICATED", 401))
        with self.assertRaises(ReservesApiError) as e:
            self.client.upload_snapshot({"currencies": [{"symbol": "BTC", "decimals": 8}], "entries": []})
        self.assertEqual((e.exception.code, e.exception.status), ("RESERVES_FORBIDDEN", 403))

    def test_no_service_is_a_network_error(self):
        with self.assertRaises(ReservesApiError) as e:
            ReservesClient("http://127.0.0.1:9", token=TOKEN, timeout=2).get_snapshot(SNAPSHOT)
        self.assertEqual((e.exception.code, e.exception.status), ("SDK_NETWORK", 0))
        self.assertTrue(e.exception.transient)


if __name__ == "__main__":
    unittest.main()
