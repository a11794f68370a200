// A datadir whose LevelDB tables were damaged one byte every 64 KiB, served by a real `cairn start`
// to a reader of every block: before, the first `eth_getBlockByNumber` of a damaged block aborted
// the process inside LevelDB (`ExtractUserKey: Assertion internal_key.size() >= 8`), so any
// anonymous reader could keep killing the restarted node. Block checksums are verified now: the
// node stays up, answers DB_CORRUPT for exactly the damaged blocks and every other block as
// before, and `cairn db check` reports the damage. The bytes damaged are block bodies' (the node
// reads no body of an old block to start), found by packages/db/test/table-damage.ts.
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelKV } from '@cairn/db'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { damageTable } from '../../../db/test/table-damage.ts'
import { runCli } from '../cli/run-cli.ts'
import { type NodeHandle, rpcRequest, startNode } from '../e2e/harness.ts'
import { devAccount } from '../e2e/helpers.ts'

/** Blocks of one transaction each, with 6 KB of calldata that does not compress: ~400 KB of bodies. */
const BLOCKS = 60
const BODY_BUCKET = 2 // packages/db/src/buckets.ts: Bucket.body, block hash -> body
const calldata = (i: number) =>
  `0x${Array.from({ length: 188 }, (_, j) => createHash('sha256').update(`${i}:${j}`).digest('hex')).join('')}`

describe('a datadir damaged one byte every 64 KiB', () => {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-damaged-tables-'))
  let node: NodeHandle | undefined
  /** Block hash (hex, no 0x) -> number, as the node served them before the damage. */
  const numberOf = new Map<string, number>()
  let head = 0
  const damagedNumbers = new Set<number>()

  beforeAll(async () => {
    const first = await startNode('cairn', { datadir })
    try {
      const from = devAccount(0).address
      for (let i = 0; i < BLOCKS; i++) {
        const sent = await rpcRequest(first.url, 'eth_sendTransaction', [
          { from, to: devAccount(5).address, value: '0x1', data: calldata(i), gas: '0x200000' },
        ])
        if ('error' in sent) throw new Error(`eth_sendTransaction: ${sent.error.message}`)
      }
      const h = await rpcRequest<string>(first.url, 'eth_blockNumber', [])
      if (!('result' in h)) throw new Error('eth_blockNumber failed')
      head = Number(h.result)
      for (let n = 0; n <= head; n++) {
        const b = await rpcRequest<{ hash: string }>(first.url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
        if (!('result' in b)) throw new Error(`block ${n}: ${JSON.stringify(b)}`)
        numberOf.set(b.result.hash.slice(2), n)
      }
    } finally {
      expect(await first.stop()).toBe(0)
    }
    // Reopened once: the write-ahead log becomes table files (what the node's next start does).
    const chaindata = join(datadir, 'chaindata')
    const kv = new LevelKV({ path: chaindata })
    await kv.open()
    await kv.close()
    // Bodies of blocks other than the head (the node reads the head's to start).
    const headHash = [...numberOf].find(([, n]) => n === head)?.[0]
    const bodyOf = (k: Uint8Array) =>
      k[0] === BODY_BUCKET && k.length === 33 ? Buffer.from(k.subarray(1)).toString('hex') : null
    const damage = readdirSync(chaindata)
      .filter((f) => f.endsWith('.ldb') || f.endsWith('.sst'))
      .flatMap((f) =>
        damageTable(join(chaindata, f), {
          compressed: false,
          pick: (keys) => keys.every((k) => bodyOf(k) !== null && bodyOf(k) !== headHash),
        }),
      )
    for (const d of damage)
      for (const k of d.keys) {
        const n = numberOf.get(bodyOf(k) as string)
        if (n !== undefined) damagedNumbers.add(n)
      }
  }, 180_000)

  afterAll(async () => {
    await node?.stop()
    rmSync(datadir, { recursive: true, force: true })
  })

  it('stays up, answers DB_CORRUPT for the damaged blocks and every other block as before', async () => {
    expect(damagedNumbers.size).toBeGreaterThanOrEqual(3)
    node = await startNode('cairn', { datadir })
    const corrupt: number[] = []
    for (let n = 0; n <= head; n++) {
      let answer: Awaited<ReturnType<typeof rpcRequest<{ hash: string; number: string }>>>
      try {
        answer = await rpcRequest(node.url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, true])
      } catch (err) {
        throw new Error(
          `block ${n}: no answer (${(err as Error).message}); the node's last output:\n${node.logs().slice(-1500)}`,
        )
      }
      if ('error' in answer) {
        expect(answer.error.message, `block ${n}`).toMatch(/^DB_CORRUPT: the node's chain database is damaged/)
        expect(answer.error.data).toEqual({ code: 'DB_CORRUPT' })
        corrupt.push(n)
      } else expect(numberOf.get(answer.result.hash.slice(2)), `block ${n}`).toBe(n)
    }
    expect(corrupt).toEqual([...damagedNumbers].sort((a, b) => a - b))
    // Still up after every read.
    const id = await rpcRequest<string>(node.url, 'eth_chainId', [])
    expect('result' in id).toBe(true)
    expect(node.logs()).toContain('block checksum mismatch')
    expect(await node.stop()).toBe(0)
    node = undefined
  }, 180_000)

  it('cairn db check reports the damage (exit 1) with the way out', async () => {
    const check = await runCli(['db', 'check', '--datadir', datadir], { timeoutMs: 120_000 })
    expect(check.code, check.stdout + check.stderr).toBe(1)
    expect(check.stdout).toMatch(/block checksum mismatch/)
    expect(check.stdout).toContain('restore a backup')
  }, 180_000)
})
