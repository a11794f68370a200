import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildTree, type SumTree, type TreeLevel } from '../src/tree/build.ts'
import { seededRandom } from '../src/tree/random.ts'
import { occupancyOf, type SetChange, type SparseBase, sparseUpdate } from '../src/tree/sparse-update.ts'
import { updateTree } from '../src/tree/update.ts'

const currencies = [
  { symbol: 'BTC', decimals: 8 },
  { symbol: 'ETH', decimals: 18 },
]

/** A stored snapshot as the service shows it, backed by an in-memory tree; counts the nodes read. */
function baseOf(tree: SumTree): SparseBase & { read: number } {
  const w = tree.currencies.length * 16
  const b = {
    hash: tree.hash,
    k: tree.currencies.length,
    depth: tree.depth,
    read: 0,
    async users(ids: readonly string[]) {
      const out = new Map<string, { leafIndex: number; salt: Uint8Array }>()
      for (const id of ids) {
        const i = tree.byId.get(id)
        if (i !== undefined) {
          const u = tree.users[i]!
          out.set(id, { leafIndex: u.leafIndex, salt: u.salt })
        }
      }
      return out
    },
    async occupancy() {
      return occupancyOf(
        tree.depth,
        tree.users.map((u) => u.leafIndex),
      )
    },
    async nodes(levels: Int32Array, indexes: Int32Array) {
      b.read += levels.length
      const hashes = new Uint8Array(levels.length * 32)
      const balances = new Uint8Array(levels.length * w)
      for (let j = 0; j < levels.length; j++) {
        const l = tree.levels[levels[j]!] as TreeLevel
        const i = indexes[j]!
        expect(i).toBeLessThan(l.count)
        hashes.set(l.hashes.subarray(i * 32, i * 32 + 32), j * 32)
        balances.set(l.balances.subarray(i * w, i * w + w), j * w)
      }
      return { hashes, balances }
    },
  }
  return b
}

const arbCase = fc.record({
  users: fc.integer({ min: 1, max: 60 }),
  minDepth: fc.integer({ min: 0, max: 7 }),
  seed: fc.string({ maxLength: 8 }),
  /** per base user: 0 keep, 1 change, 2 remove */
  edits: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 60 }),
  added: fc.integer({ min: 0, max: 20 }),
})

describe('sparseUpdate (an incremental build against a stored base)', () => {
  it('agrees with updateTree node for node, reading only siblings of changed paths', async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async (c) => {
        const entries = Array.from({ length: c.users }, (_, i) => ({
          userId: `u${i}`,
          balances: [BigInt(i + 1), BigInt(3 * i)],
        }))
        const tree = buildTree(entries, {
          hash: 'sha256',
          currencies,
          minDepth: c.minDepth,
          random: seededRandom(c.seed),
        })
        const changes: SetChange[] = []
        for (const [i, e] of c.edits.slice(0, c.users).entries())
          if (e === 1) changes.push({ userId: `u${i}`, balances: [BigInt(i * 7), 5n] })
          else if (e === 2) changes.push({ userId: `u${i}`, balances: null })
        const free = 2 ** tree.depth - c.users
        for (let i = 0; i < Math.min(c.added, free); i++) changes.push({ userId: `new${i}`, balances: [1n, BigInt(i)] })
        fc.pre(changes.length > 0)
        const expected = updateTree(
          tree,
          changes.map((ch) =>
            ch.balances === null
              ? { userId: ch.userId, remove: true as const }
              : { userId: ch.userId, balances: ch.balances },
          ),
          { random: seededRandom(`u${c.seed}`) },
        ).tree
        const base = baseOf(tree)
        const got = await sparseUpdate(base, changes, seededRandom(`u${c.seed}`))
        const bad: string[] = []
        const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0
        // every node the update says changed has the full update's value; every other node is the base's
        for (let l = 0; l <= tree.depth; l++) {
          const e = expected.levels[l] as TreeLevel
          const old = tree.levels[l] as TreeLevel
          const ch = got.levels[l]!
          const at = new Map([...ch.indexes].map((i, j) => [i, j]))
          for (let i = 0; i < e.count; i++) {
            const j = at.get(i)
            const want = e.hashes.subarray(i * 32, i * 32 + 32)
            const wantSum = e.balances.subarray(i * 32, i * 32 + 32)
            if (j === undefined) {
              if (!same(old.hashes.subarray(i * 32, i * 32 + 32), want)) bad.push(`unchanged ${l}/${i}`)
            } else if (
              !same(ch.hashes.subarray(j * 32, j * 32 + 32), want) ||
              !same(ch.balances.subarray(j * 32, j * 32 + 32), wantSum)
            )
              bad.push(`changed ${l}/${i}`)
          }
        }
        expect(bad).toEqual([])
        expect(Buffer.from(got.rootHash)).toEqual(Buffer.from((expected.levels[tree.depth] as TreeLevel).hashes))
        // the leaf map and the users added/removed match the full update's users
        expect(Buffer.from(got.occupancy)).toEqual(
          Buffer.from(
            occupancyOf(
              tree.depth,
              expected.users.map((u) => u.leafIndex),
            ),
          ),
        )
        for (const a of got.added) {
          const u = expected.users[expected.byId.get(a.userId)!]!
          expect(u.leafIndex).toBe(a.leafIndex)
          expect(Buffer.from(u.salt)).toEqual(Buffer.from(a.salt))
        }
        expect(got.removed.map((r) => r.userId).sort()).toEqual(
          changes
            .filter((ch) => ch.balances === null)
            .map((ch) => ch.userId)
            .sort(),
        )
        // it read siblings only: never more nodes than it changed
        const changed = got.levels.reduce((n, l) => n + l.indexes.length, 0)
        expect(base.read).toBeLessThanOrEqual(changed)
      }),
      { numRuns: 100 },
    )
  })

  it('refuses what updateTree refuses, before reading any node', async () => {
    const tree = buildTree([{ userId: 'a', balances: [1n, 2n] }], { hash: 'sha256', currencies, minDepth: 1 })
    const base = baseOf(tree)
    await expect(sparseUpdate(base, [])).rejects.toMatchObject({ code: 'RESERVES_BAD_OPTIONS' })
    await expect(sparseUpdate(base, [{ userId: 'zz', balances: null }])).rejects.toMatchObject({
      code: 'RESERVES_INPUT_INVALID',
      meta: { row: 1, userId: 'zz' },
    })
    await expect(
      sparseUpdate(base, [
        { userId: 'a', balances: [1n, 1n] },
        { userId: 'a', balances: null },
      ]),
    ).rejects.toMatchObject({ code: 'RESERVES_INPUT_INVALID', meta: { row: 2 } })
    await expect(sparseUpdate(base, [{ userId: 'a', balances: [-1n, 1n] }])).rejects.toMatchObject({
      code: 'RESERVES_OVERFLOW',
    })
    await expect(
      sparseUpdate(base, [
        { userId: 'b', balances: [1n, 1n] },
        { userId: 'c', balances: [1n, 1n] },
      ]),
    ).rejects.toMatchObject({ code: 'RESERVES_BAD_OPTIONS', message: expect.stringContaining('free leaves') })
    expect(base.read).toBe(0)
    await expect(
      sparseUpdate(base, [
        { userId: 'a', balances: [2n ** 128n - 1n, 0n] },
        { userId: 'b', balances: [1n, 0n] },
      ]),
    ).rejects.toMatchObject({
      code: 'RESERVES_OVERFLOW',
    })
  })
})
