import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CheckReport, checkChain, encodeReceipts, openStoredChain, type StoredChainView } from '@cairn/chain'
import { Bucket, bucketKey, LevelKV } from '@cairn/db'
import { RLP } from '@ethereumjs/rlp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../cli/run-cli.ts'
import { buildFixtureChain } from './fixture.ts'

let source: string
const dirs: string[] = []

beforeAll(async () => {
  source = await buildFixtureChain()
  dirs.push(source)
}, 60_000)
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** Copies the fixture, applies `damage` to the copy's LevelDB, and checks it. */
async function damaged(damage: (v: StoredChainView, kv: LevelKV) => Promise<void>): Promise<CheckReport> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-damaged-'))
  dirs.push(dir)
  cpSync(source, dir, { recursive: true })
  const kv = new LevelKV({ path: join(dir, 'chaindata') })
  await kv.open()
  try {
    await damage(await openStoredChain(kv), kv)
    // A fresh view: nothing cached from before the damage.
    return await checkChain(await openStoredChain(kv), { fullState: true })
  } finally {
    await kv.close()
  }
}

const hashAt = async (v: StoredChainView, n: bigint) => (await v.store.getCanonicalHash(n)) as Uint8Array
const kinds = (r: CheckReport) => [...new Set(r.problems.map((p) => p.kind))]

/** The hash of the first child (a 32-byte reference) of the head's state root node. */
async function headRootChild(v: StoredChainView): Promise<Uint8Array> {
  const head = await v.store.getHeader((await v.store.getHeadHash('latest')) as Uint8Array)
  const root = (await v.store.kv.get(bucketKey(Bucket.state, head?.stateRoot as Uint8Array))) as Uint8Array
  const node = RLP.decode(root) as Uint8Array[]
  return node.find((c) => c instanceof Uint8Array && c.length === 32) as Uint8Array
}

describe('checkChain over a damaged LevelDB copy', () => {
  it('finds nothing wrong in the intact chain, and walks every state root', async () => {
    const r = await damaged(async () => {})
    expect(r.problems).toEqual([])
    expect(r.head?.number).toBe(6n)
    expect(r.stateRootsWalked).toHaveLength(7)
    expect(r.transactionsChecked).toBe(12)
    // the counter, and the dev genesis's four system contracts (EIP-4788, 2935, 7002, 7251)
    expect(r.state.codes).toBe(5)
    expect(r.state.storageSlots).toBeGreaterThan(0)
  })

  const cases: [string, string, (v: StoredChainView, kv: LevelKV) => Promise<void>][] = [
    ['a missing header', 'header-missing', async (v) => void (await v.store.headers.del(await hashAt(v, 3n)))],
    ['a missing body', 'body-missing', async (v) => void (await v.store.bodies.del(await hashAt(v, 3n)))],
    ['missing receipts', 'receipts-missing', async (v) => void (await v.store.receipts.del(await hashAt(v, 3n)))],
    [
      'receipts of another block',
      'receipt-root',
      async (v) => {
        const other = (await v.store.receipts.get(await hashAt(v, 2n))) ?? []
        await v.store.kv.put(v.store.receipts.key(await hashAt(v, 4n)), encodeReceipts(other))
      },
    ],
    [
      'a missing hash → number entry',
      'number-index',
      async (v) => void (await v.store.hashToNumber.del(await hashAt(v, 2n))),
    ],
    ['a missing canonical entry', 'canonical-missing', async (v) => void (await v.store.canonical.del(2n))],
    [
      'a canonical entry above the head',
      'canonical-above-head',
      async (v) => void (await v.store.canonical.put(7n, await hashAt(v, 1n))),
    ],
    [
      'a missing tx-hash index entry',
      'tx-index-missing',
      async (v) => {
        const block = await v.store.getBlockByNumber(5n)
        await v.store.txIndex.del(block?.transactions[0]?.hash() as Uint8Array)
      },
    ],
    [
      'a tx-hash index entry at the wrong position',
      'tx-index-mismatch',
      async (v) => {
        const block = await v.store.getBlockByNumber(5n)
        await v.store.txIndex.put(block?.transactions[0]?.hash() as Uint8Array, {
          blockHash: block?.hash() as Uint8Array,
          index: 1,
        })
      },
    ],
    [
      'a stale tx-hash index entry',
      'tx-index-stale',
      async (v) =>
        void (await v.store.txIndex.put(new Uint8Array(32).fill(7), { blockHash: await hashAt(v, 3n), index: 0 })),
    ],
    [
      'a missing state root',
      'state-missing',
      async (v) => {
        const h = await v.store.getHeader(await hashAt(v, 6n))
        await v.store.kv.del(bucketKey(Bucket.state, h?.stateRoot as Uint8Array))
      },
    ],
    [
      'a missing inner state node',
      'state-node-missing',
      async (v) => v.store.kv.del(bucketKey(Bucket.state, await headRootChild(v))),
    ],
    [
      'a corrupt state node',
      'state-node-corrupt',
      async (v) => {
        const key = bucketKey(Bucket.state, await headRootChild(v))
        const value = (await v.store.kv.get(key)) as Uint8Array
        value[value.length - 1] = (value.at(-1) as number) ^ 1
        await v.store.kv.put(key, value)
      },
    ],
    [
      'missing contract code',
      'code-missing',
      async (v) => {
        for await (const [key] of v.store.kv.iterate({
          gte: Uint8Array.of(Bucket.state, 0x63),
          lt: Uint8Array.of(Bucket.state, 0x64),
        })) {
          if (key.length === 34) await v.store.kv.del(key)
        }
      },
    ],
    [
      'a head pointer to nothing',
      'head-missing',
      async (v) => v.store.heads.put('latest', new Uint8Array(32).fill(9)) as Promise<void>,
    ],
    ['a broken parent link', 'parent-link', async (v) => void (await v.store.canonical.put(3n, await hashAt(v, 1n)))],
  ]
  for (const [what, kind, damage] of cases) {
    it(`reports ${what} as ${kind}`, async () => {
      const r = await damaged(damage)
      expect(kinds(r)).toContain(kind)
    })
  }
})

describe('cairn db check', () => {
  it('exits 0 on a consistent datadir and 1 naming the problem on a damaged one', async () => {
    const ok = await runCli(['db', 'check', '--datadir', source])
    expect(ok.stdout).toContain('OK: no inconsistency found')
    expect(ok.code).toBe(0)
    const dir = mkdtempSync(join(tmpdir(), 'cairn-damaged-'))
    dirs.push(dir)
    cpSync(source, dir, { recursive: true })
    const kv = new LevelKV({ path: join(dir, 'chaindata') })
    await kv.open()
    const v = await openStoredChain(kv)
    await v.store.receipts.del(await hashAt(v, 4n))
    await kv.close()
    const bad = await runCli(['db', 'check', '--datadir', dir, '--last', '3'])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/problem \[receipts-missing\] block 4: receipts are missing/)
    expect(bad.stdout).toContain('checked blocks 4..6')
  }, 60_000)
})
