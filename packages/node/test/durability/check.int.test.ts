import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CheckReport, checkChain, openStoredChain, type StoredChainView } from '@cairn/chain'
import { Bucket, bucketKey, type KVStore, LevelKV } from '@cairn/db'
import { concatBytes, uintToBytes } from '@cairn/utils'
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

const hashAt = async (v: StoredChainView, n: bigint) => (await v.blocks.getCanonicalHash(n)) as Uint8Array
const kinds = (r: CheckReport) => [...new Set(r.problems.map((p) => p.kind))]

// The damage is done to the raw entries (the chain store's layout: packages/db/src/buckets.ts).
/** A canonical index key: the block number as uint64 BE. */
const numberKey = (n: bigint) => bucketKey(Bucket.canonical, uintToBytes(n, 8))
/** A tx-hash index entry's value: the block hash ++ the tx index as uint32 BE. */
const txLocation = (blockHash: Uint8Array, index: number) => concatBytes(blockHash, uintToBytes(index, 4))

/** The hash of the first child (a 32-byte reference) of the head's state root node. */
async function headRootChild(v: StoredChainView, kv: KVStore): Promise<Uint8Array> {
  const head = await v.blocks.getHeader((await v.blocks.getHeadHash('latest')) as Uint8Array)
  const root = (await kv.get(bucketKey(Bucket.state, head?.stateRoot as Uint8Array))) as Uint8Array
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
    // the counter, the dev genesis's four system contracts (EIP-4788, 2935, 7002, 7251) and the
    // CREATE2 deployer (0x4e59…956C, as Anvil and Hardhat predeploy it)
    expect(r.state.codes).toBe(6)
    expect(r.state.storageSlots).toBeGreaterThan(0)
  })

  const cases: [string, string, (v: StoredChainView, kv: LevelKV) => Promise<void>][] = [
    ['a missing header', 'header-missing', async (v, kv) => kv.del(bucketKey(Bucket.header, await hashAt(v, 3n)))],
    ['a missing body', 'body-missing', async (v, kv) => kv.del(bucketKey(Bucket.body, await hashAt(v, 3n)))],
    ['missing receipts', 'receipts-missing', async (v, kv) => kv.del(bucketKey(Bucket.receipts, await hashAt(v, 3n)))],
    [
      'receipts of another block',
      'receipt-root',
      async (v, kv) => {
        const other = (await kv.get(bucketKey(Bucket.receipts, await hashAt(v, 2n)))) as Uint8Array
        await kv.put(bucketKey(Bucket.receipts, await hashAt(v, 4n)), other)
      },
    ],
    [
      'a missing hash → number entry',
      'number-index',
      async (v, kv) => kv.del(bucketKey(Bucket.hashToNumber, await hashAt(v, 2n))),
    ],
    ['a missing canonical entry', 'canonical-missing', async (_v, kv) => kv.del(numberKey(2n))],
    [
      'a canonical entry above the head',
      'canonical-above-head',
      async (v, kv) => kv.put(numberKey(7n), await hashAt(v, 1n)),
    ],
    [
      'a missing tx-hash index entry',
      'tx-index-missing',
      async (v, kv) => {
        const block = await v.blocks.getBlockByNumber(5n)
        await kv.del(bucketKey(Bucket.txIndex, block?.transactions[0]?.hash() as Uint8Array))
      },
    ],
    [
      'a tx-hash index entry at the wrong position',
      'tx-index-mismatch',
      async (v, kv) => {
        const block = await v.blocks.getBlockByNumber(5n)
        await kv.put(
          bucketKey(Bucket.txIndex, block?.transactions[0]?.hash() as Uint8Array),
          txLocation(block?.hash() as Uint8Array, 1),
        )
      },
    ],
    [
      'a stale tx-hash index entry',
      'tx-index-stale',
      async (v, kv) =>
        kv.put(bucketKey(Bucket.txIndex, new Uint8Array(32).fill(7)), txLocation(await hashAt(v, 3n), 0)),
    ],
    [
      'a missing state root',
      'state-missing',
      async (v, kv) => {
        const h = await v.blocks.getHeader(await hashAt(v, 6n))
        await kv.del(bucketKey(Bucket.state, h?.stateRoot as Uint8Array))
      },
    ],
    [
      'a missing inner state node',
      'state-node-missing',
      async (v, kv) => kv.del(bucketKey(Bucket.state, await headRootChild(v, kv))),
    ],
    [
      'a corrupt state node',
      'state-node-corrupt',
      async (v, kv) => {
        const key = bucketKey(Bucket.state, await headRootChild(v, kv))
        const value = (await kv.get(key)) as Uint8Array
        value[value.length - 1] = (value.at(-1) as number) ^ 1
        await kv.put(key, value)
      },
    ],
    [
      'missing contract code',
      'code-missing',
      async (_v, kv) => {
        for await (const [key] of kv.iterate({
          gte: Uint8Array.of(Bucket.state, 0x63),
          lt: Uint8Array.of(Bucket.state, 0x64),
        })) {
          if (key.length === 34) await kv.del(key)
        }
      },
    ],
    [
      'a head pointer to nothing',
      'head-missing',
      async (_v, kv) => kv.put(bucketKey(Bucket.head, new TextEncoder().encode('latest')), new Uint8Array(32).fill(9)),
    ],
    ['a broken parent link', 'parent-link', async (v, kv) => kv.put(numberKey(3n), await hashAt(v, 1n))],
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
    await kv.del(bucketKey(Bucket.receipts, await hashAt(v, 4n)))
    await kv.close()
    const bad = await runCli(['db', 'check', '--datadir', dir, '--last', '3'])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(/problem \[receipts-missing\] block 4: receipts are missing/)
    expect(bad.stdout).toContain('checked blocks 4..6')
  }, 60_000)
})
