"""The shared test vectors: docs/reserves/vectors.json (valid) and ../vectors/invalid.json (invalid,
with the reference verifier's reasons)."""

import json
import os
import unittest
from pathlib import Path

from cairn_reserves import hash_fn, keccak256, leaf_hash, node_hash, padding_hash, user_hash, verify_proof
from cairn_reserves.verifier import encode_balances, from_hex, to_hex

HERE = Path(__file__).resolve().parent
VECTORS = Path(os.environ.get("CAIRN_VECTORS", HERE.parents[3] / "docs" / "reserves" / "vectors.json"))
INVALID = Path(os.environ.get("CAIRN_INVALID_VECTORS", HERE.parents[1] / "vectors" / "invalid.json"))


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class KeccakTest(unittest.TestCase):
    def test_known_digests(self):
        self.assertEqual(keccak256(b"").hex(), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        self.assertEqual(keccak256(b"abc").hex(), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")

    def test_block_boundaries(self):
        # 135, 136 and 137 bytes: padding in the same block, a block of its own, the next block
        seen = {keccak256(b"\x61" * n) for n in (135, 136, 137, 272)}
        self.assertEqual(len(seen), 4)
        self.assertEqual(
            keccak256(b"\x61" * 200).hex(), "96ea54061def936c4be90b518992fdc6f12f535068a256229aca54267b4d084d"
        )


class PrimitivesTest(unittest.TestCase):
    def test_every_primitive_of_both_hashes(self):
        prims = load(VECTORS)["primitives"]
        self.assertEqual(set(prims), {"sha256", "keccak256"})
        for name, v in prims.items():
            with self.subTest(hash=name):
                h = hash_fn(name)
                b = encode_balances([int(x) for x in v["balances"]])
                self.assertEqual(to_hex(b), v["B"])
                uh = user_hash(h, from_hex(v["salt"], 32), v["userId"])
                self.assertEqual(to_hex(uh), v["userHash"])
                leaf = leaf_hash(h, uh, b)
                self.assertEqual(to_hex(leaf), v["leafHash"])
                pad = padding_hash(h, from_hex(v["paddingRandom"], 32))
                self.assertEqual(to_hex(pad), v["paddingHash"])
                zero = encode_balances([0] * len(v["balances"]))
                self.assertEqual(to_hex(node_hash(h, leaf, b, pad, zero)), v["nodeHashLeafPadding"])


class SnapshotVectorsTest(unittest.TestCase):
    def test_every_published_proof_verifies_against_its_root(self):
        snapshots = load(VECTORS)["snapshots"]
        self.assertEqual(len(snapshots), 2)
        for s in snapshots:
            self.assertEqual(len(s["proofs"]), 4)
            for p in s["proofs"]:
                with self.subTest(snapshot=s["snapshotId"], user=p["userId"]):
                    r = verify_proof(p, expected_root=s["root"]["hash"])
                    self.assertTrue(r.ok, r.reason)
                    self.assertEqual(r.computed_root, s["root"]["hash"])
                    self.assertEqual(len(r.steps), s["depth"])
                    leaf = next(x for x in s["leaves"] if x.get("userId") == p["userId"])
                    self.assertEqual(r.leaf_hash, leaf["hash"])
                    self.assertEqual(leaf["index"], p["leafIndex"])

    def test_the_leaves_fold_to_the_published_root(self):
        for s in load(VECTORS)["snapshots"]:
            h = hash_fn(s["hash"])
            level = [(from_hex(x["hash"], 32), encode_balances([int(a) for a in x["balances"]])) for x in s["leaves"]]
            self.assertEqual(len(level), 2 ** s["depth"])
            while len(level) > 1:
                nxt = []
                for (hl, bl), (hr, br) in zip(level[0::2], level[1::2]):
                    sums = [int.from_bytes(bl[i : i + 16], "big") + int.from_bytes(br[i : i + 16], "big") for i in range(0, len(bl), 16)]
                    nxt.append((node_hash(h, hl, bl, hr, br), encode_balances(sums)))
                level = nxt
            self.assertEqual(to_hex(level[0][0]), s["root"]["hash"])
            self.assertEqual(encode_balances([int(a) for a in s["root"]["balances"]]), level[0][1])

    def test_hashes_are_accepted_in_either_case(self):
        s = load(VECTORS)["snapshots"][1]
        p = s["proofs"][2]
        p["root"]["hash"] = p["root"]["hash"].upper().replace("0X", "0x")
        p["path"][0]["hash"] = p["path"][0]["hash"].upper().replace("0X", "0x")
        self.assertTrue(verify_proof(p, expected_root=s["root"]["hash"].upper().replace("0X", "0x")).ok)


class InvalidVectorsTest(unittest.TestCase):
    def test_every_invalid_case_fails_with_the_reference_reason(self):
        cases = load(INVALID)["cases"]
        self.assertGreaterEqual(len(cases), 60)
        for c in cases:
            with self.subTest(case=c["name"]):
                r = verify_proof(c["proof"], expected_root=c.get("expectedRoot"))
                self.assertFalse(r.ok)
                self.assertEqual(r.reason, c["reason"])

    def test_never_raises_on_junk(self):
        for junk in (None, 1, "proof", [], {}, {"version": True}, {"version": 1, "hash": ["sha256"]}):
            with self.subTest(junk=junk):
                self.assertFalse(verify_proof(junk).ok)
        self.assertEqual(verify_proof({"version": True}).reason, "unsupported proof version true (this verifier reads 1)")


if __name__ == "__main__":
    unittest.main()
