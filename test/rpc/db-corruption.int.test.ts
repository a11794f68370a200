// Issue 48 §1: a block whose header is gone from a real datadir never reads as "no block". A dev
// node (in-process, real LevelDB, real HTTP) makes a few blocks of transfers and stops; block N's
// header entry is removed while its body, number index and canonical entry stay (what changed
// bytes in a table gave before reads verified LevelDB's block checksums; byte damage itself is
// damaged-tables.e2e's). Restarted on it, every read of block N is a DB_CORRUPT error (-32603),
// not null / [] / "header not found"; the damage is logged once, counted, and /ready is red.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bucket, bucketKey, LevelKV } from '@cairn/db'
import { bytesToHex, hexToBytes, type LogFn, type Logger, uintToBytes } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

interface Line {
  level: string
  obj: Record<string, unknown>
  msg: string
}

/** A logger that keeps the node's warn/error lines. */
function recordingLogger(lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string): LogFn =>
    (a: string | Record<string, unknown>, b?: string) => {
      if (level === 'warn' || level === 'error' || level === 'fatal')
        lines.push({
          level,
          obj: { ...bindings, ...(typeof a === 'string' ? {} : a) },
          msg: typeof a === 'string' ? a : (b ?? ''),
        })
    }
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  }
}

const start = (dir: string, logger?: Logger) =>
  startDevNode({}, { flags: { ephemeral: false, datadir: dir, 'rpc.threads': 0 }, ...(logger ? { logger } : {}) })

/** Reads of the stored block `hash` at `number`, straight from the store (no chain). */
async function rawReads(chaindata: string, number: bigint, hash: Uint8Array) {
  const kv = new LevelKV({ path: chaindata })
  await kv.open()
  try {
    const get = (key: Uint8Array) => kv.get(key).catch(() => 'error' as const)
    return {
      header: await get(bucketKey(Bucket.header, hash)),
      body: await get(bucketKey(Bucket.body, hash)),
      number: await get(bucketKey(Bucket.hashToNumber, hash)),
      canonical: await get(bucketKey(Bucket.canonical, uintToBytes(number, 8))),
    }
  } finally {
    await kv.close()
  }
}

/**
 * Block `hash`'s header gone while its body, number index and canonical entry remain: what a
 * damaged table gave before reads verified LevelDB's block checksums (byte damage is now refused
 * as a checksum mismatch: packages/node/test/durability/damaged-tables.e2e.test.ts). The entry is
 * deleted under the store, so the node meets the same inconsistency an older store or another
 * fault can leave.
 */
async function damageHeader(chaindata: string, number: bigint, hash: Uint8Array): Promise<void> {
  const kv = new LevelKV({ path: chaindata })
  await kv.open()
  try {
    await kv.del(bucketKey(Bucket.header, hash))
  } finally {
    await kv.close()
  }
  const r = await rawReads(chaindata, number, hash)
  expect(r.header).toBeUndefined()
  expect(r.body).toBeInstanceOf(Uint8Array)
  expect(r.number).toBeInstanceOf(Uint8Array)
  expect(bytesToHex(r.canonical as Uint8Array)).toBe(bytesToHex(hash))
}

describe('a block whose header is gone never reads as "no block"', () => {
  const root = mkdtempSync(join(tmpdir(), 'cairn-dbcorrupt-'))
  const dir = join(root, 'datadir')
  const lines: Line[] = []
  let node: StartedNode
  let number: bigint
  let hash: string
  let healthyMetrics: string

  beforeAll(async () => {
    const first = await start(dir)
    const accounts = await result<string[]>(first.url, 'eth_accounts')
    // A few blocks of transfers (each sealed as it arrives).
    for (let i = 0; i < 6; i++) {
      await result(first.url, 'eth_sendTransaction', [{ from: accounts[i % 3], to: accounts[5], value: '0x1' }])
    }
    const block = await result<{ number: string; hash: string; transactions: string[] }>(
      first.url,
      'eth_getBlockByNumber',
      ['0x3', false],
    )
    expect(block.transactions.length).toBeGreaterThan(0)
    number = BigInt(block.number)
    hash = block.hash
    healthyMetrics = await (await fetch(`${first.url}/metrics`)).text()
    await first.close()
    // Reopening the store turns its write-ahead log into a table (what a restart does).
    const kv = new LevelKV({ path: join(dir, 'chaindata') })
    await kv.open()
    await kv.close()
    await damageHeader(join(dir, 'chaindata'), number, hexToBytes(hash as `0x${string}`))
    node = await start(dir, recordingLogger(lines))
  }, 60_000)
  afterAll(async () => {
    await node?.close()
    rmSync(root, { recursive: true, force: true })
  })

  const expectCorrupt = (r: { result?: unknown; error?: { code: number; message: string; data?: unknown } }) => {
    expect(r.result).toBeUndefined()
    expect(r.error?.code).toBe(-32603)
    expect(r.error?.message).toMatch(/^DB_CORRUPT: /)
    expect(r.error?.data).toEqual({ code: 'DB_CORRUPT' })
  }

  it('the block by number and by hash is a DB_CORRUPT error (-32603), not null', async () => {
    const q = `0x${number.toString(16)}`
    expectCorrupt(await call(node.url, 'eth_getBlockByNumber', [q, false]))
    expectCorrupt(await call(node.url, 'eth_getBlockByHash', [hash, true]))
    expectCorrupt(await call(node.url, 'eth_getBalance', [(await result<string[]>(node.url, 'eth_accounts'))[0], q]))
  })

  it('eth_getLogs over it errors instead of answering []', async () => {
    const q = `0x${number.toString(16)}`
    expectCorrupt(await call(node.url, 'eth_getLogs', [{ fromBlock: '0x1', toBlock: q }]))
    expectCorrupt(await call(node.url, 'eth_getLogs', [{ blockHash: hash }]))
  })

  it('is logged once, counted in cairn_db_corruption_errors_total, and /ready is red', async () => {
    expect(healthyMetrics).toMatch(/^cairn_db_corruption_errors_total 0$/m)
    const logged = lines.filter((l) => l.level === 'error' && l.msg.startsWith('DB_CORRUPT: '))
    expect(logged.length).toBe(1)
    expect(logged[0]?.msg).toContain(hash)
    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    const count = Number(/^cairn_db_corruption_errors_total (\d+)$/m.exec(metrics)?.[1])
    expect(count).toBeGreaterThanOrEqual(5)
    const ready = await fetch(`${node.url}/ready`)
    expect(ready.status).toBe(503)
    const body = (await ready.json()) as { failing: string[]; checks: { name: string; detail: string }[] }
    expect(body.failing).toContain('db')
    expect(body.checks.find((c) => c.name === 'db')?.detail).toMatch(/DB_CORRUPT/)
  })

  it('other blocks still read', async () => {
    const other = await result<{ hash: string } | null>(node.url, 'eth_getBlockByNumber', ['0x1', false])
    expect(other?.hash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(await result(node.url, 'eth_getBlockByNumber', ['0x1000', false])).toBeNull()
  })
})
