// The flat-buffer builder (single thread, worker threads, straight to a directory) against a
// plain per-node reference: same placement, salts, padding, levels, root and proofs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { initCrypto, keccak256 } from '@cairn/crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTree, buildTreeParallel, depthFor, type LiabilityEntry, type SumTree } from '../src/tree/build.ts'
import { proofFor, rootOf } from '../src/tree/proof.ts'
import { type RandomSource, randomBelow, seededRandom } from '../src/tree/random.ts'
import { buildTreeDir } from '../src/tree-dir/build.ts'
import { readTreeDir, writeTreeDir } from '../src/tree-dir/format.ts'
import { proofFromTreeDir } from '../src/tree-dir/proof.ts'
import { leafHash, nodeHash, paddingHash, userHash } from '../src/verifier/encoding.ts'
import { type HashFn, type HashName, portableHash } from '../src/verifier/hash.ts'
import { addBalancesInto, encodeBalances, U128_LIMIT } from '../src/verifier/u128.ts'

/** The reference: one hash call and one buffer per node, randomness drawn 4 and 32 bytes at a time. */
function referenceTree(entries: LiabilityEntry[], k: number, minDepth: number, random: RandomSource, h: HashFn) {
  const depth = depthFor(entries.length, minDepth)
  const size = 2 ** depth
  const slots = new Int32Array(size).fill(-1)
  for (let i = 0; i < entries.length; i++) slots[i] = i
  for (let i = size - 1; i > 0; i--) {
    const j = randomBelow(random, i + 1)
    const t = slots[i] as number
    slots[i] = slots[j] as number
    slots[j] = t
  }
  const w = 16 * k
  let hashes: Uint8Array[] = []
  let sums: Uint8Array[] = []
  const users: { salt: Uint8Array; leafIndex: number }[] = []
  for (let idx = 0; idx < size; idx++) {
    const u = slots[idx] as number
    if (u < 0) {
      hashes.push(paddingHash(h, random(32)))
      sums.push(new Uint8Array(w))
      continue
    }
    const e = entries[u] as LiabilityEntry
    const salt = random(32)
    const b = encodeBalances(e.balances)
    hashes.push(leafHash(h, userHash(h, salt, e.userId), b))
    sums.push(b)
    users[u] = { salt, leafIndex: idx }
  }
  const levels = [{ hashes, sums }]
  while (hashes.length > 1) {
    const nh: Uint8Array[] = []
    const ns: Uint8Array[] = []
    for (let i = 0; i < hashes.length; i += 2) {
      const s = new Uint8Array(w)
      if (!addBalancesInto(sums[i] as Uint8Array, sums[i + 1] as Uint8Array, s)) throw new Error('overflow')
      nh.push(nodeHash(h, hashes[i]!, sums[i]!, hashes[i + 1]!, sums[i + 1]!))
      ns.push(s)
    }
    hashes = nh
    sums = ns
    levels.push({ hashes, sums })
  }
  return { depth, levels, users }
}

const concat = (parts: Uint8Array[]) => Buffer.concat(parts).toString('hex')
const hexOf = (a: Uint8Array) => Buffer.from(a).toString('hex')

function sameTree(a: SumTree, b: SumTree) {
  expect(a.depth).toBe(b.depth)
  for (let l = 0; l <= a.depth; l++) {
    expect(hexOf(a.levels[l]!.hashes)).toBe(hexOf(b.levels[l]!.hashes))
    expect(hexOf(a.levels[l]!.balances)).toBe(hexOf(b.levels[l]!.balances))
  }
  expect(a.users.map((u) => [u.userId, u.leafIndex, hexOf(u.salt)])).toEqual(
    b.users.map((u) => [u.userId, u.leafIndex, hexOf(u.salt)]),
  )
}

const balance = fc.oneof(
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.bigInt({ min: 0n, max: 999_999_999_999_999n }),
  fc.bigInt({ min: 0n, max: (1n << 123n) - 1n }),
)
const userId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
)
const snapshot = (maxUsers: number) =>
  fc
    .uniqueArray(userId, { minLength: 0, maxLength: maxUsers, selector: (s) => Buffer.from(s).toString('hex') })
    .chain((ids) =>
      fc.record({
        ids: fc.constant(ids),
        k: fc.integer({ min: 1, max: 4 }),
        bals: fc.array(fc.array(balance, { minLength: 4, maxLength: 4 }), {
          minLength: ids.length,
          maxLength: ids.length,
        }),
        hash: fc.constantFrom<HashName>('sha256', 'keccak256'),
        minDepth: fc.integer({ min: 0, max: 7 }),
        seed: fc.string(),
      }),
    )
    .map((s) => ({
      ...s,
      entries: s.ids.map((id, i) => ({ userId: id, balances: s.bals[i]!.slice(0, s.k) })) as LiabilityEntry[],
      currencies: Array.from({ length: s.k }, (_, c) => ({ symbol: `C${c}`, decimals: 0 })),
    }))

beforeAll(async () => {
  await initCrypto()
})

describe('flat tree builder', () => {
  it('gives exactly the reference tree and proofs (both hashes, unicode ids, big balances)', () => {
    fc.assert(
      fc.property(snapshot(40), (s) => {
        const tree = buildTree(s.entries, {
          hash: s.hash,
          currencies: s.currencies,
          minDepth: s.minDepth,
          random: seededRandom(s.seed),
        })
        const ref = referenceTree(s.entries, s.k, s.minDepth, seededRandom(s.seed), portableHash(s.hash))
        expect(tree.depth).toBe(ref.depth)
        for (let l = 0; l <= ref.depth; l++) {
          expect(hexOf(tree.levels[l]!.hashes)).toBe(concat(ref.levels[l]!.hashes))
          expect(hexOf(tree.levels[l]!.balances)).toBe(concat(ref.levels[l]!.sums))
        }
        for (const [i, e] of s.entries.entries()) {
          const p = proofFor(tree, 'snap', e.userId)
          expect(p.leafIndex).toBe(ref.users[i]!.leafIndex)
          expect(p.salt).toBe(`0x${hexOf(ref.users[i]!.salt)}`)
          expect(p.path.map((n) => n.hash)).toEqual(
            Array.from({ length: ref.depth }, (_, l) => {
              const sib = (ref.users[i]!.leafIndex >> l) ^ 1
              return `0x${hexOf(ref.levels[l]!.hashes[sib]!)}`
            }),
          )
        }
      }),
      { numRuns: 60 },
    )
  })

  it('uses OpenSSL SHA-256 and the WASM Keccak that agree with the portable ones', () => {
    const data = new TextEncoder().encode('cairn')
    expect(hexOf(keccak256(data))).toBe(hexOf(portableHash('keccak256')(data)))
  })

  it('refuses sums that reach 2^128, however the build runs', async () => {
    const currencies = [{ symbol: 'X', decimals: 0 }]
    const entries = [
      { userId: 'a', balances: [U128_LIMIT - 1n] },
      { userId: 'b', balances: [1n] },
    ]
    expect(() => buildTree(entries, { hash: 'sha256', currencies })).toThrow(/2\^128/)
    await expect(buildTreeParallel(entries, { hash: 'sha256', currencies, workers: 2 })).rejects.toThrow(/2\^128/)
    expect(() => buildTree([...entries, { userId: 'a', balances: [0n] }], { hash: 'sha256', currencies })).toThrow(
      /twice/,
    )
  })
})

describe('worker threads and the directory builder', () => {
  const dirs: string[] = []
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'cairn-tree-'))
    dirs.push(d)
    return d
  }
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('worker-thread builds equal single-thread builds (many chunks, both hashes)', async () => {
    await fc.assert(
      fc.asyncProperty(snapshot(60), fc.integer({ min: 0, max: 3 }), async (s, chunkBits) => {
        const opts = { hash: s.hash, currencies: s.currencies, minDepth: s.minDepth }
        const a = buildTree(s.entries, { ...opts, random: seededRandom(s.seed) })
        const b = await buildTreeParallel(s.entries, { ...opts, random: seededRandom(s.seed), workers: 2, chunkBits })
        sameTree(a, b)
      }),
      { numRuns: 4 },
    )
  })

  it('a directory built from a CSV stream equals writeTreeDir of the in-memory tree; proofs read in place', async () => {
    await fc.assert(
      fc.asyncProperty(snapshot(50), fc.integer({ min: 0, max: 4 }), async (s, chunkBits) => {
        const csvId = (id: string) => `"${id.replaceAll('"', '""')}"`
        fc.pre(s.ids.every((id) => !/[\r\n]/.test(id)))
        const header = ['userId', ...s.currencies.map((c) => c.symbol)].join(',')
        const csv = [header, ...s.entries.map((e) => [csvId(e.userId), ...e.balances.map(String)].join(','))].join('\n')
        const opts = { hash: s.hash, currencies: s.currencies, minDepth: s.minDepth }
        const memDir = tmp()
        const tree = buildTree(s.entries, { ...opts, random: seededRandom(s.seed) })
        writeTreeDir(memDir, 'snap', tree)
        const dir = tmp()
        const meta = await buildTreeDir(Readable.from([csv]), dir, {
          ...opts,
          snapshotId: 'snap',
          random: seededRandom(s.seed),
          workers: chunkBits % 2 === 0 ? 1 : 2,
          chunkBits,
        })
        expect(meta.root).toEqual(rootOf(tree))
        expect(readFileSync(join(dir, 'tree.bin')).equals(readFileSync(join(memDir, 'tree.bin')))).toBe(true)
        expect(readFileSync(join(dir, 'users.ndjson'), 'utf8')).toBe(readFileSync(join(memDir, 'users.ndjson'), 'utf8'))
        const back = readTreeDir(dir)
        for (const e of s.entries.slice(0, 5)) {
          expect(proofFromTreeDir(dir, e.userId)).toEqual(proofFor(tree, 'snap', e.userId))
          expect(proofFor(back.tree, 'snap', e.userId)).toEqual(proofFor(tree, 'snap', e.userId))
        }
        expect(() => proofFromTreeDir(dir, 'nobody-at-all')).toThrow(/not in snapshot/)
      }),
      { numRuns: 6 },
    )
  })

  it('a refused snapshot writes nothing: bad rows with line numbers, duplicates, totals ≥ 2^128', async () => {
    const dir = join(tmp(), 'out')
    const build = (csv: string) => buildTreeDir(Readable.from([csv]), dir, { hash: 'sha256', snapshotId: 's' })
    await expect(build('userId,BTC\na,1\nb,-1\na,2\n,3\n')).rejects.toMatchObject({
      meta: {
        errorCount: 3,
        errors: [
          { line: 3, reason: expect.stringMatching(/negative/) },
          { line: 4, reason: expect.stringMatching(/duplicate/) },
          { line: 5, reason: expect.stringMatching(/empty/) },
        ],
      },
    })
    await expect(build(`userId,BTC\na,${U128_LIMIT - 1n}\nb,1\n`)).rejects.toThrow(/2\^128/)
    expect(() => readFileSync(join(dir, 'tree.bin'))).toThrow(/ENOENT/)
  })
})
