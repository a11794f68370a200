// Generates vectors/invalid.json: proofs that must NOT verify, each with the exact reason the
// reference verifier (@cairn/reserves/verifier) gives. They are made by changing one thing in a
// published proof of docs/reserves/vectors.json (a balance, a sibling, the index, the root, a
// field's shape), so every SDK's verifier can be held to the same verdicts and the same words.
//
//   node --import tsx packages/reserves-sdk/scripts/gen-invalid-vectors.ts
//
// test/vectors.test.ts fails while the checked-in file differs from what this generates.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { verifyProof } from '@cairn/reserves/verifier'

/** The published vectors (docs/reserves/vectors.json). */
export const VECTORS_FILE = fileURLToPath(new URL('../../../docs/reserves/vectors.json', import.meta.url))
/** Where the invalid cases live. */
export const INVALID_FILE = fileURLToPath(new URL('../vectors/invalid.json', import.meta.url))

/** One proof that must fail, and why. */
export interface InvalidCase {
  name: string
  /** The root the proof is checked against (absent: the proof alone). */
  expectedRoot?: string
  proof: unknown
  reason: string
}

type Json = Record<string, unknown> & { path: { hash: string; balances: string[] }[] }
const bump = (a: string) => String(BigInt(a) + 1n)
const flip = (hash: string) => `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}`

type Balances = Record<string, unknown>
type Currencies = { symbol: string; decimals: number }[]

/** Each mutation changes one thing in a copy of a valid proof. */
const MUTATIONS: { name: string; expectedRoot?: (root: string) => string; change: (p: Json) => void }[] = [
  { name: 'user balance changed', change: (p) => set(p.balances, 'BTC', '150000001') },
  { name: 'sibling sum changed', change: (p) => set(p.path[0]!.balances, 0, bump(p.path[0]!.balances[0]!)) },
  { name: 'sibling hash changed', change: (p) => set(p.path[1], 'hash', flip(p.path[1]!.hash)) },
  { name: 'leaf index of the neighbour', change: (p) => set(p, 'leafIndex', (p.leafIndex as number) ^ 1) },
  { name: 'salt changed', change: (p) => set(p, 'salt', flip(p.salt as string)) },
  { name: 'user id changed', change: (p) => set(p, 'userId', 'mallory@example.com') },
  {
    name: 'root total changed',
    change: (p) => {
      const root = p.root as { balances: string[] }
      set(root.balances, 1, bump(root.balances[1]!))
    },
  },
  { name: 'another root expected', expectedRoot: (r) => flip(r), change: () => {} },
  { name: 'malformed expected root', expectedRoot: () => '0x1234', change: () => {} },
  { name: 'sum reaches 2^128', change: (p) => set(p.path[0]!.balances, 0, String((1n << 128n) - 1n)) },
  { name: 'version 2', change: (p) => set(p, 'version', 2) },
  { name: 'version missing', change: (p) => set(p, 'version', undefined) },
  { name: 'unknown hash', change: (p) => set(p, 'hash', 'sha3-256') },
  { name: 'empty snapshot id', change: (p) => set(p, 'snapshotId', '') },
  { name: 'no currencies', change: (p) => set(p, 'currencies', []) },
  {
    name: 'currency listed twice',
    change: (p) => set(p, 'currencies', [...(p.currencies as Currencies), (p.currencies as Currencies)[0]]),
  },
  { name: 'bad currency symbol', change: (p) => set((p.currencies as Currencies)[1], 'symbol', 'E TH') },
  { name: 'fractional decimals', change: (p) => set((p.currencies as Currencies)[0], 'decimals', 8.5) },
  { name: 'user id too long', change: (p) => set(p, 'userId', 'é'.repeat(129)) },
  { name: 'short salt', change: (p) => set(p, 'salt', (p.salt as string).slice(0, 64)) },
  { name: 'unknown currency in balances', change: (p) => set(p.balances, 'DOGE', '1') },
  { name: 'currency missing from balances', change: (p) => set(p.balances, 'ETH', undefined) },
  { name: 'amount with a leading zero', change: (p) => set(p.balances, 'BTC', '0150') },
  { name: 'amount as a number', change: (p) => set(p.balances, 'BTC', 150000000) },
  { name: 'amount of 2^128', change: (p) => set(p.balances, 'BTC', String(1n << 128n)) },
  { name: 'negative leaf index', change: (p) => set(p, 'leafIndex', -1) },
  { name: 'leaf index outside the tree', change: (p) => set(p, 'leafIndex', 8) },
  { name: 'sibling hash too short', change: (p) => set(p.path[2], 'hash', p.path[2]!.hash.slice(0, 64)) },
  { name: 'sibling with one amount too few', change: (p) => set(p.path[0], 'balances', p.path[0]!.balances.slice(1)) },
  { name: 'root not an object', change: (p) => set(p, 'root', 'none') },
  {
    name: 'path too deep',
    change: (p) =>
      set(
        p,
        'path',
        Array.from({ length: 49 }, () => p.path[0]),
      ),
  },
]

/** Sets `target[key]` to `value`, or deletes it when `value` is undefined. */
function set(target: unknown, key: string | number, value: unknown): void {
  const t = target as Balances
  if (value === undefined) delete t[key]
  else t[key] = value
}

/** The invalid cases, from the first proof of each published snapshot. */
export function generateInvalidVectors(vectors: unknown): { description: string; cases: InvalidCase[] } {
  const snapshots = (vectors as { snapshots: { root: { hash: string }; proofs: Json[] }[] }).snapshots
  const cases: InvalidCase[] = []
  for (const s of snapshots) {
    const valid = s.proofs[0] as Json
    for (const m of MUTATIONS) {
      const proof = structuredClone(valid)
      m.change(proof)
      const expectedRoot = m.expectedRoot ? m.expectedRoot(s.root.hash) : undefined
      const r = verifyProof(proof, expectedRoot === undefined ? {} : { expectedRoot })
      if (r.ok || r.reason === undefined) throw new Error(`${m.name}: the changed proof still verifies`)
      cases.push({
        name: `${valid.hash}: ${m.name}`,
        ...(expectedRoot ? { expectedRoot } : {}),
        proof,
        reason: r.reason,
      })
    }
  }
  return {
    description:
      'Proofs that must not verify, made from docs/reserves/vectors.json by packages/reserves-sdk/scripts/gen-invalid-vectors.ts; reason: what the reference verifier says',
    cases,
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = generateInvalidVectors(JSON.parse(readFileSync(VECTORS_FILE, 'utf8')))
  writeFileSync(INVALID_FILE, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`wrote ${out.cases.length} cases to ${INVALID_FILE}`)
}
