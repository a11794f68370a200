import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildTree, type LiabilityEntry } from '../src/tree/build.ts'
import { proofFor, rootOf } from '../src/tree/proof.ts'
import { seededRandom } from '../src/tree/random.ts'
import type { HashName } from '../src/verifier/hash.ts'
import { type ProofV1, U128_LIMIT, verifyProof } from '../src/verifier/index.ts'

const currencies = [
  { symbol: 'BTC', decimals: 8 },
  { symbol: 'ETH', decimals: 18 },
]

const balance = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: (1n << 120n) - 1n }))
const snapshot = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 24 })
  .chain((ids) =>
    fc.tuple(
      fc.constant(ids),
      fc.array(fc.tuple(balance, balance), { minLength: ids.length, maxLength: ids.length }),
      fc.constantFrom<HashName>('sha256', 'keccak256'),
      fc.integer({ min: 0, max: 6 }),
      fc.string(),
    ),
  )
  .map(([ids, bals, hash, minDepth, seed]) => ({
    entries: ids.map((userId, i) => ({ userId, balances: [...(bals[i] as [bigint, bigint])] })) as LiabilityEntry[],
    hash,
    minDepth,
    seed,
  }))

function build(s: { entries: LiabilityEntry[]; hash: HashName; minDepth: number; seed: string }) {
  return buildTree(s.entries, { hash: s.hash, currencies, minDepth: s.minDepth, random: seededRandom(s.seed) })
}

const clone = (p: ProofV1): ProofV1 => structuredClone(p)
const bump = (a: string) => String(BigInt(a) + 1n)
const flipHex = (h: string, at: number) => {
  const i = 2 + (at % (h.length - 2))
  return h.slice(0, i) + (h[i] === '0' ? '1' : '0') + h.slice(i + 1)
}

describe('Merkle sum tree (properties)', () => {
  it('every user proof verifies against the root, and the root sums equal the sum of balances', () => {
    fc.assert(
      fc.property(snapshot, (s) => {
        const tree = build(s)
        const root = rootOf(tree)
        for (const [c] of currencies.entries()) {
          const total = s.entries.reduce((acc, e) => acc + (e.balances[c] as bigint), 0n)
          expect(root.balances[c]).toBe(String(total))
        }
        expect(tree.depth).toBeGreaterThanOrEqual(s.minDepth)
        expect(2 ** tree.depth).toBeGreaterThanOrEqual(s.entries.length)
        for (const e of s.entries) {
          const r = verifyProof(proofFor(tree, 'snap', e.userId), { expectedRoot: root.hash })
          expect(r.reason).toBeUndefined()
          expect(r.ok).toBe(true)
        }
      }),
      { numRuns: 60 },
    )
  })

  it('changing any balance, salt, user id, sibling hash, sibling sum, leaf index or root total makes it fail', () => {
    fc.assert(
      fc.property(snapshot, fc.nat(), fc.nat(), (s, pick, at) => {
        const tree = build(s)
        const e = s.entries[pick % s.entries.length] as LiabilityEntry
        const good = proofFor(tree, 'snap', e.userId)
        const mutants: ProofV1[] = []
        const sym = currencies[at % currencies.length]!.symbol
        let m = clone(good)
        m.balances[sym] = bump(m.balances[sym] as string)
        mutants.push(m)
        m = clone(good)
        m.salt = flipHex(m.salt, at)
        mutants.push(m)
        m = clone(good)
        m.userId = `${m.userId}x`
        mutants.push(m)
        m = clone(good)
        m.root.balances[at % 2] = bump(m.root.balances[at % 2] as string)
        mutants.push(m)
        m = clone(good)
        m.root.hash = flipHex(m.root.hash, at)
        mutants.push(m)
        if (good.path.length > 0) {
          const lvl = at % good.path.length
          m = clone(good)
          m.path[lvl]!.hash = flipHex(m.path[lvl]!.hash, at)
          mutants.push(m)
          m = clone(good)
          m.path[lvl]!.balances[at % 2] = bump(m.path[lvl]!.balances[at % 2] as string)
          mutants.push(m)
          // moving value between a sibling and the leaf keeps every total but must still fail
          const sib = m.path[lvl]!
          if (BigInt(sib.balances[0] as string) > 0n) {
            m = clone(good)
            m.path[lvl]!.balances[0] = String(BigInt(m.path[lvl]!.balances[0] as string) - 1n)
            m.balances.BTC = bump(m.balances.BTC as string)
            mutants.push(m)
          }
          m = clone(good)
          m.leafIndex = good.leafIndex ^ (1 << lvl)
          mutants.push(m)
          m = clone(good)
          m.path.pop()
          mutants.push(m)
        }
        for (const bad of mutants) expect(verifyProof(bad).ok).toBe(false)
      }),
      { numRuns: 80 },
    )
  })

  it('padding leaves are distinct, fresh per build, and hold zero balances; salts are fresh', () => {
    const entries = [{ userId: 'a', balances: [1n, 2n] }]
    const a = buildTree(entries, { hash: 'sha256', currencies, minDepth: 4 })
    const b = buildTree(entries, { hash: 'sha256', currencies, minDepth: 4 })
    const leafHashes = (t: typeof a) =>
      Array.from({ length: t.levels[0]!.count }, (_, i) =>
        Buffer.from(t.levels[0]!.hashes.subarray(i * 32, i * 32 + 32)).toString('hex'),
      )
    expect(new Set(leafHashes(a)).size).toBe(16)
    expect(leafHashes(a).filter((h) => leafHashes(b).includes(h))).toEqual([])
    expect(Buffer.from(a.users[0]!.salt).equals(Buffer.from(b.users[0]!.salt))).toBe(false)
    const zeros = a.levels[0]!.balances.filter((x) => x !== 0).length
    expect(zeros).toBe(2) // only the user's two non-zero bytes
  })

  it('places users uniformly at random (each of 8 places is chosen)', () => {
    const places = new Set<number>()
    for (let i = 0; i < 200; i++)
      places.add(
        buildTree([{ userId: 'u', balances: [1n, 1n] }], { hash: 'sha256', currencies, minDepth: 3 }).users[0]!
          .leafIndex,
      )
    expect(places.size).toBe(8)
  })

  it('refuses negative, overflowing, mis-sized balances, duplicates, empty ids and overflowing totals', () => {
    const opts = { hash: 'sha256' as const, currencies }
    expect(() => buildTree([{ userId: 'a', balances: [-1n, 0n] }], opts)).toThrow(/2\^128/)
    expect(() => buildTree([{ userId: 'a', balances: [U128_LIMIT, 0n] }], opts)).toThrow(/2\^128/)
    expect(() => buildTree([{ userId: 'a', balances: [1n] }], opts)).toThrow(/2\^128/)
    expect(() => buildTree([{ userId: '', balances: [1n, 1n] }], opts)).toThrow(/empty/)
    expect(() =>
      buildTree(
        [
          { userId: 'a', balances: [1n, 1n] },
          { userId: 'a', balances: [2n, 2n] },
        ],
        opts,
      ),
    ).toThrow(/twice/)
    expect(() =>
      buildTree(
        [
          { userId: 'a', balances: [U128_LIMIT - 1n, 0n] },
          { userId: 'b', balances: [1n, 0n] },
        ],
        opts,
      ),
    ).toThrow(/2\^128/)
    expect(() => buildTree([], { ...opts, currencies: [] })).toThrow(/currencies/)
    expect(() => buildTree([], { ...opts, currencies: [currencies[0]!, currencies[0]!] })).toThrow(/twice/)
  })

  it('the verifier refuses a proof whose sums reach 2^128 or that is malformed', () => {
    const tree = buildTree([{ userId: 'a', balances: [1n, 1n] }], { hash: 'sha256', currencies, minDepth: 1 })
    const p = proofFor(tree, 's', 'a')
    const big = clone(p)
    big.path[0]!.balances[0] = String(U128_LIMIT - 1n)
    expect(verifyProof(big).reason).toMatch(/2\^128/)
    const neg = clone(p)
    neg.balances.BTC = '-1'
    expect(verifyProof(neg).ok).toBe(false)
    const frac = clone(p)
    frac.balances.BTC = '1.5'
    expect(verifyProof(frac).ok).toBe(false)
    expect(verifyProof({ ...p, version: 2 }).reason).toMatch(/version/)
    expect(verifyProof({ ...p, leafIndex: 2 }).reason).toMatch(/leafIndex/)
    expect(verifyProof(null).ok).toBe(false)
    expect(verifyProof({ ...p, balances: { ...p.balances, DOGE: '1' } }).reason).toMatch(/DOGE/)
  })
})
