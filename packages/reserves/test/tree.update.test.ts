import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildTree, type LiabilityEntry, type SumTree, type TreeLevel } from '../src/tree/build.ts'
import { digestFor, TreeHasher } from '../src/tree/kernel.ts'
import { proofFor, rootOf } from '../src/tree/proof.ts'
import { seededRandom } from '../src/tree/random.ts'
import { type BalanceChange, diffEntries, updateTree } from '../src/tree/update.ts'
import type { HashName } from '../src/verifier/hash.ts'
import { verifyProof } from '../src/verifier/index.ts'

const currencies = [
  { symbol: 'BTC', decimals: 8 },
  { symbol: 'ETH', decimals: 18 },
]

/** Every internal level recomputed from the leaf level by the full builder's kernel. */
function rehashed(tree: SumTree): TreeLevel[] {
  const hasher = new TreeHasher(digestFor(tree.hash), tree.currencies.length)
  const out: TreeLevel[] = [tree.levels[0] as TreeLevel]
  for (let l = 1; l <= tree.depth; l++) {
    const count = 2 ** (tree.depth - l)
    const lv = {
      count,
      hashes: new Uint8Array(count * 32),
      balances: new Uint8Array(count * 16 * tree.currencies.length),
    }
    expect(hasher.parents(out[l - 1] as TreeLevel, 0, count, lv, 0)).toBe(true)
    out.push(lv)
  }
  return out
}

/** The tree holds exactly `expected` (id → balances): every proof verifies, sums add up, levels are consistent. */
function check(tree: SumTree, expected: Map<string, bigint[]>): void {
  expect(tree.users).toHaveLength(expected.size)
  expect(tree.byId.size).toBe(expected.size)
  const r = rehashed(tree)
  for (let l = 1; l <= tree.depth; l++) {
    expect(Buffer.from((tree.levels[l] as TreeLevel).hashes).equals(Buffer.from((r[l] as TreeLevel).hashes))).toBe(true)
    expect(Buffer.from((tree.levels[l] as TreeLevel).balances).equals(Buffer.from((r[l] as TreeLevel).balances))).toBe(
      true,
    )
  }
  const root = rootOf(tree)
  const totals = [0n, 0n]
  const leaves = new Set<number>()
  for (const [id, balances] of expected) {
    const i = tree.byId.get(id)
    expect(i, id).toBeDefined()
    expect(tree.users[i as number]?.userId).toBe(id)
    const p = proofFor(tree, 's', id)
    expect(p.balances).toEqual({ BTC: String(balances[0]), ETH: String(balances[1]) })
    const v = verifyProof(p, { expectedRoot: root.hash })
    expect(v.ok, v.reason).toBe(true)
    leaves.add(p.leafIndex)
    totals[0] = (totals[0] as bigint) + (balances[0] as bigint)
    totals[1] = (totals[1] as bigint) + (balances[1] as bigint)
  }
  expect(leaves.size).toBe(expected.size)
  expect(root.balances).toEqual(totals.map(String))
}

const entriesOf = (m: Map<string, bigint[]>): LiabilityEntry[] =>
  [...m].map(([userId, balances]) => ({ userId, balances }))

const amount = fc.bigInt({ min: 0n, max: 10n ** 30n })
const step = fc.record({
  change: fc.array(fc.tuple(fc.nat(), amount, amount), { maxLength: 6 }),
  delta: fc.array(fc.tuple(fc.nat(), fc.bigInt({ min: -1000n, max: 1000n })), { maxLength: 4 }),
  remove: fc.array(fc.nat(), { maxLength: 4 }),
  add: fc.array(fc.tuple(amount, amount), { maxLength: 5 }),
})

describe('incremental snapshot builds (updateTree)', () => {
  it('a chain of updates gives trees whose every level matches a full rehash, every proof verifies, the base is untouched', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom<HashName>('sha256', 'keccak256'),
        fc.array(step, { minLength: 1, maxLength: 10 }),
        fc.string(),
        (n, hash, steps, seed) => {
          const expected = new Map<string, bigint[]>()
          for (let i = 0; i < n; i++) expected.set(`u${i}`, [BigInt(i), BigInt(i * 7)])
          let tree = buildTree(entriesOf(expected), { hash, currencies, minDepth: 7, random: seededRandom(seed) })
          let fresh = n
          const rnd = seededRandom(`${seed}/update`)
          for (const s of steps) {
            const ids = [...expected.keys()]
            const changes: BalanceChange[] = []
            const touched = new Set<string>()
            const pick = (i: number) => {
              if (ids.length === 0) return null
              const id = ids[i % ids.length] as string
              if (touched.has(id)) return null
              touched.add(id)
              return id
            }
            const next = new Map(expected)
            for (const [i, a, b] of s.change) {
              const id = pick(i)
              if (id === null) continue
              changes.push({ userId: id, balances: [a, b] })
              next.set(id, [a, b])
            }
            for (const [i, d] of s.delta) {
              const id = pick(i)
              if (id === null) continue
              const old = next.get(id) as bigint[]
              const deltas = [d < -(old[0] as bigint) ? -(old[0] as bigint) : d, 0n]
              changes.push({ userId: id, deltas })
              next.set(id, [(old[0] as bigint) + (deltas[0] as bigint), old[1] as bigint])
            }
            for (const i of s.remove) {
              const id = pick(i)
              if (id === null) continue
              changes.push({ userId: id, remove: true })
              next.delete(id)
            }
            for (const [a, b] of s.add) {
              const id = `new${fresh++}`
              changes.push({ userId: id, balances: [a, b] })
              next.set(id, [a, b])
            }
            const baseRoot = rootOf(tree)
            const baseLeaves = Buffer.from((tree.levels[0] as TreeLevel).hashes)
            const out = updateTree(tree, changes, { random: rnd })
            // The base is what it was: a service may go on serving it.
            expect(rootOf(tree)).toEqual(baseRoot)
            expect(Buffer.from((tree.levels[0] as TreeLevel).hashes).equals(baseLeaves)).toBe(true)
            // Unchanged users keep their leaf and salt; the others' leaves are the only ones hashed.
            for (const id of expected.keys()) {
              if (touched.has(id)) continue
              const a = tree.users[tree.byId.get(id) as number]
              const b = out.tree.users[out.tree.byId.get(id) as number]
              expect(b?.leafIndex).toBe(a?.leafIndex)
              expect(Buffer.from(b?.salt as Uint8Array).equals(Buffer.from(a?.salt as Uint8Array))).toBe(true)
            }
            expect(out.added + out.removed + out.changed).toBe(changes.length)
            tree = out.tree
            expected.clear()
            for (const [k, v] of next) expected.set(k, v)
            check(tree, expected)
          }
        },
      ),
      { numRuns: 60 },
    )
  })

  it('hashes only the changed leaves and their paths: 1% of 4,096 users changes ~0.5% of the nodes', () => {
    const entries = Array.from({ length: 4096 }, (_, i) => ({ userId: `user-${i}`, balances: [BigInt(i), 1n] }))
    const tree = buildTree(entries, { hash: 'sha256', currencies, minDepth: 13, random: seededRandom('x') })
    const changes: BalanceChange[] = Array.from({ length: 41 }, (_, i) => ({
      userId: `user-${i * 100}`,
      deltas: [5n, 0n],
    }))
    const out = updateTree(tree, changes, { random: seededRandom('y') })
    expect(out.changed).toBe(41)
    // 41 leaves, and at most 41 nodes per level above them: far below the 16,383 of a full build.
    expect(out.hashed).toBeLessThanOrEqual(41 * 14)
    expect(out.hashed).toBeGreaterThan(41)
    expect(rootOf(out.tree).balances[0]).toBe(String((4095n * 4096n) / 2n + 41n * 5n))
  })

  it('refuses bad changes before hashing anything, naming the user', () => {
    const tree = buildTree(
      [
        { userId: 'alice', balances: [5n, 1n] },
        { userId: 'bob', balances: [1n, 1n] },
      ],
      { hash: 'sha256', currencies, minDepth: 1, random: seededRandom('e') },
    )
    const refusal = (changes: BalanceChange[]) => {
      try {
        updateTree(tree, changes)
        return 'accepted'
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`
      }
    }
    expect(refusal([{ userId: 'carol', remove: true }])).toMatch(/INPUT_INVALID: user carol is not in the base/)
    expect(refusal([{ userId: 'carol', deltas: [1n, 1n] }])).toMatch(/user carol is not in the base/)
    expect(refusal([{ userId: 'alice', deltas: [-6n, 0n] }])).toMatch(/OVERFLOW: user alice: balances outside/)
    expect(
      refusal([
        { userId: 'alice', balances: [1n, 2n] },
        { userId: 'alice', remove: true },
      ]),
    ).toMatch(/user alice is changed twice/)
    expect(refusal([{ userId: 'alice', balances: [1n] }])).toMatch(/OVERFLOW/)
    // Depth 1 holds two users: a third does not fit without growing the tree.
    expect(refusal([{ userId: 'carol', balances: [1n, 1n] }])).toMatch(
      /BAD_OPTIONS: 1 new users do not fit in the 0 free/,
    )
    expect(refusal([{ userId: 'alice', balances: [(1n << 128n) - 1n, 0n] }])).toMatch(/OVERFLOW: the total/)
  })

  it('diffEntries finds exactly what changed between the base and a whole new snapshot', () => {
    const base = new Map<string, bigint[]>([
      ['a', [1n, 1n]],
      ['b', [2n, 2n]],
      ['c', [3n, 3n]],
    ])
    const tree = buildTree(entriesOf(base), { hash: 'keccak256', currencies, minDepth: 3, random: seededRandom('d') })
    const next = new Map<string, bigint[]>([
      ['a', [1n, 1n]],
      ['c', [3n, 4n]],
      ['d', [9n, 0n]],
    ])
    const changes = diffEntries(tree, entriesOf(next))
    expect(changes).toEqual([
      { userId: 'c', balances: [3n, 4n] },
      { userId: 'd', balances: [9n, 0n] },
      { userId: 'b', remove: true },
    ])
    check(updateTree(tree, changes, { random: seededRandom('e') }).tree, next)
  })
})
