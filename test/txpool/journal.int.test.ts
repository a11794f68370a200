import {
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, type CairnError, type Hex, silentLogger } from '@cairn/utils'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import { afterAll, describe, expect, it } from 'vitest'
import { ADDRS, buildAndImport, KEYS, transfer } from '../../packages/chain/test/helpers.ts'
import { DEFAULT_TXPOOL_OPTIONS, TxJournal, TxPool } from '../../packages/txpool/src/index.ts'
import { GWEI, poolOn, setup } from '../../packages/txpool/test/helpers.ts'
import { rpc, startDev } from './node-helpers.ts'

const [K0, K1] = KEYS as [Uint8Array, Uint8Array]
const A2 = ADDRS[2] as Hex
const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-txpool-journal-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('TxJournal', () => {
  it('writes local transactions and reloads them into a new pool, revalidated on the current head', async () => {
    const { chain, pool, common } = await setup()
    const path = join(tempDir(), 'txpool.journal')
    const a0 = transfer(common, K0, 0n, A2, 1n)
    const a1 = transfer(common, K0, 1n, A2, 1n)
    const a3 = transfer(common, K0, 3n, A2, 1n) // queued: kept too
    const b0 = transfer(common, K1, 0n, A2, 1n)
    const remote = transfer(common, K1, 1n, A2, 1n)
    for (const tx of [a0, a1, a3, b0]) await pool.add(tx, { source: 'local' })
    await pool.add(remote, { source: 'remote' })
    const journal = new TxJournal({ path, rejournal: 0 }, { pool, common, logger: silentLogger })
    await journal.stop()
    const lines = readFileSync(path, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(5) // header + 4 locals; the remote one is not journaled

    // meanwhile a0 was mined: on reload it is refused (nonce too low), the rest come back
    await buildAndImport(chain, [a0])
    const fresh = poolOn(chain)
    const reloaded = new TxJournal({ path, rejournal: 0 }, { pool: fresh, common, logger: silentLogger })
    expect(await reloaded.load()).toEqual({
      loaded: 3,
      undecodable: 0,
      refused: 1,
      reasons: { 'nonce too low': 1 },
      pending: 2,
      queued: 1,
    })
    expect(fresh.get(a1.hash())).toBeDefined()
    expect(fresh.get(a3.hash())).toBeDefined()
    expect(fresh.get(b0.hash())).toBeDefined()
    expect(fresh.get(remote.hash())).toBeUndefined()
    expect(fresh.counts).toEqual({ pending: 2, queued: 1 })
  })

  it('skips a truncated or garbled line, and a missing file is an empty journal', async () => {
    const { pool, common } = await setup()
    const dir = tempDir()
    const missing = new TxJournal({ path: join(dir, 'none'), rejournal: 0 }, { pool, common, logger: silentLogger })
    expect(await missing.load()).toEqual({ loaded: 0, undecodable: 0, refused: 0, reasons: {}, pending: 0, queued: 0 })
    const good = bytesToHex(transfer(common, K0, 0n, A2, 1n).serialize())
    const path = join(dir, 'txpool.journal')
    writeFileSync(path, `# cairn txpool journal v1\n${good}\n0xzz\n${good.slice(0, 40)}`)
    const j = new TxJournal({ path, rejournal: 0 }, { pool, common, logger: silentLogger })
    expect(await j.load()).toEqual({ loaded: 1, undecodable: 2, refused: 0, reasons: {}, pending: 1, queued: 0 })
  })
})

describe('TxJournal appends on admission', () => {
  /** A pool whose local transactions go to a journal at `path`, wired as the node wires them. */
  async function journaled(path: string, opts: { deadLines?: number; stateGate?: Promise<void> } = {}) {
    const { chain, common } = await setup()
    let pool: TxPool | undefined
    const journal = new TxJournal(
      { path, rejournal: 0, ...(opts.deadLines !== undefined ? { deadLinesBeforeCompaction: opts.deadLines } : {}) },
      {
        pool: {
          locals: () => (pool as TxPool).locals(),
          add: (tx, o) => (pool as TxPool).add(tx, o),
          get counts() {
            return (pool as TxPool).counts
          },
        },
        common,
        logger: silentLogger,
      },
    )
    pool = new TxPool(DEFAULT_TXPOOL_OPTIONS, {
      // With a gate, the pool's account reads (its checks' last step) wait for it.
      stateAt: (root) => {
        const state = chain.stateAt(root)
        const gate = opts.stateGate
        if (gate === undefined) return state
        return new Proxy(state, {
          get(target, key) {
            if (key === 'getAccount') return async (a: Address) => gate.then(() => target.getAccount(a))
            const v = Reflect.get(target, key)
            return typeof v === 'function' ? v.bind(target) : v
          },
        })
      },
      head: chain.head.header,
      logger: silentLogger,
      metrics: null,
      journal,
    })
    return { chain, common, pool, journal }
  }

  it('a local transaction is on disk when add resolves, before any stop or compaction', async () => {
    const path = join(tempDir(), 'txpool.journal')
    const { common, pool } = await journaled(path)
    const tx = transfer(common, K0, 0n, A2, 1n)
    await pool.add(tx, { source: 'local' })
    expect(readFileSync(path, 'utf8')).toContain(bytesToHex(tx.serialize()))
    const remote = transfer(common, K1, 0n, A2, 1n)
    await pool.add(remote, { source: 'remote' })
    expect(readFileSync(path, 'utf8')).not.toContain(bytesToHex(remote.serialize()))
  })

  // Linux shows a descriptor's open flags in /proc: the journal's appends are synchronous writes
  // (O_DSYNC), on disk when the write returns, instead of a write and then an fdatasync.
  it.skipIf(process.platform !== 'linux')('appends through a descriptor opened with O_DSYNC', async () => {
    const path = join(tempDir(), 'txpool.journal')
    const { common, pool } = await journaled(path)
    await pool.add(transfer(common, K0, 0n, A2, 1n), { source: 'local' })
    const fd = readdirSync('/proc/self/fd').find((n) => {
      try {
        return readlinkSync(`/proc/self/fd/${n}`) === path
      } catch {
        return false // a descriptor closed meanwhile
      }
    })
    expect(fd).toBeDefined()
    const flags = Number.parseInt(
      /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0',
      8,
    )
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC)
    expect(flags & constants.O_APPEND).toBe(constants.O_APPEND)
  })

  it('concurrent admissions all reach the file (group commit) and reload once each', async () => {
    const path = join(tempDir(), 'txpool.journal')
    const { chain, common, pool } = await journaled(path)
    const txs = Array.from({ length: 60 }, (_, i) => transfer(common, i % 2 === 0 ? K0 : K1, BigInt(i >> 1), A2, 1n))
    await Promise.all(txs.map((tx) => pool.add(tx, { source: 'local' })))
    const lines = readFileSync(path, 'utf8').trim().split('\n')
    expect(new Set(lines)).toEqual(new Set(txs.map((t) => bytesToHex(t.serialize()))))
    const fresh = poolOn(chain)
    const reloaded = new TxJournal({ path, rejournal: 0 }, { pool: fresh, common, logger: silentLogger })
    expect((await reloaded.load()).loaded).toBe(60)
  })

  it('a transaction is on disk before its checks end, and a compaction meanwhile keeps it', async () => {
    const path = join(tempDir(), 'txpool.journal')
    let open = () => {}
    const stateGate = new Promise<void>((r) => {
      open = r
    })
    const { common, pool, journal } = await journaled(path, { stateGate })
    const tx = transfer(common, K0, 0n, A2, 1n)
    const line = bytesToHex(tx.serialize())
    let answered = false
    const adding = pool.add(tx, { source: 'local' }).then(() => {
      answered = true
    })
    // Written ahead: on disk while the pool still waits to read the sender's account.
    await expect.poll(() => readFileSync(path, 'utf8').includes(line)).toBe(true)
    expect(answered).toBe(false)
    // A compaction now: the pool does not hold it yet, the rewritten file must still.
    await journal.write()
    expect(readFileSync(path, 'utf8')).toContain(line)
    open()
    await adding
    expect(pool.get(tx.hash())).toBeDefined()
    expect(readFileSync(path, 'utf8')).toContain(line)
  })

  it('a refused transaction leaves a dead line that a reload refuses; enough of them compact the journal', async () => {
    const path = join(tempDir(), 'txpool.journal')
    const { chain, common, pool } = await journaled(path, { deadLines: 3 })
    const good = transfer(common, K0, 0n, A2, 1n)
    await pool.add(good, { source: 'local' })
    // More value than the sender has: refused by the pool's last check, after it was written.
    const bad = (i: number) => transfer(common, K1, BigInt(i), A2, 10n ** 40n)
    const refused = await pool.add(bad(0), { source: 'local' }).catch((e: unknown) => e)
    expect((refused as CairnError).code).toBe('TXPOOL_INSUFFICIENT_FUNDS')
    // The refusal can come before its write: the line lands anyway.
    await expect
      .poll(() => readFileSync(path, 'utf8').trim().split('\n'))
      .toEqual([bytesToHex(good.serialize()), bytesToHex(bad(0).serialize())])
    const fresh = poolOn(chain)
    const reloaded = await new TxJournal({ path, rejournal: 0 }, { pool: fresh, common, logger: silentLogger }).load()
    expect(reloaded).toMatchObject({ loaded: 1, refused: 1 })
    // The third dead line compacts the file down to what the pool holds.
    for (const i of [1, 2]) await pool.add(bad(i), { source: 'local' }).catch(() => {})
    await expect
      .poll(() =>
        readFileSync(path, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('#')),
      )
      .toEqual([bytesToHex(good.serialize())])
  })

  it('a journal that cannot be written refuses the transaction and keeps nothing of it', async () => {
    const dir = tempDir()
    const path = join(dir, 'txpool.journal')
    mkdirSync(path) // a directory where the file should be: every write fails, as on a full disk
    const { common, pool } = await journaled(path)
    const tx = transfer(common, K0, 0n, A2, 1n)
    const err = await pool.add(tx, { source: 'local' }).catch((e: unknown) => e)
    expect((err as CairnError).code).toBe('TXPOOL_JOURNAL_UNWRITABLE')
    expect((err as CairnError).message).toMatch(/^transaction not accepted: the txpool journal cannot be written/)
    expect(pool.get(tx.hash())).toBeUndefined()
    expect(pool.size).toBe(0)
    // Space comes back: the next transaction is kept.
    rmdirSync(path)
    await pool.add(tx, { source: 'local' })
    expect(readFileSync(path, 'utf8')).toContain(bytesToHex(tx.serialize()))
  })
})

describe('a journal larger than the pending pool', () => {
  it('reports the executable transactions that wait for room as queued, and promotes them as blocks free it', async () => {
    const { chain, pool, common } = await setup()
    const path = join(tempDir(), 'txpool.journal')
    const txs = Array.from({ length: 6 }, (_, i) => transfer(common, K0, BigInt(i), A2, 1n))
    for (const tx of txs) await pool.add(tx, { source: 'local' })
    await new TxJournal({ path, rejournal: 0 }, { pool, common, logger: silentLogger }).stop()

    // A node restarted with room for 4 executable transactions (txpool.globalSlots).
    const small = poolOn(chain, { globalSlots: 4 })
    const loaded = await new TxJournal({ path, rejournal: 0 }, { pool: small, common, logger: silentLogger }).load()
    expect(loaded).toMatchObject({ loaded: 6, refused: 0, pending: 4, queued: 2 })
    // Nothing vanished: the two waiting ones run once a block takes the first four.
    const { block } = await buildAndImport(chain, txs.slice(0, 4))
    await small.onNewHead(block)
    expect(small.counts).toEqual({ pending: 2, queued: 0 })
    expect(small.get(txs[5]!.hash())).toBeDefined()
  })
})

describe('journal through a real node', () => {
  it('a pooled transaction survives a restart on the same datadir', async () => {
    const datadir = tempDir()
    let node = await startDev({ datadir, blockTime: 3600 })
    const key = node.accounts[0]?.privateKey as Uint8Array
    const tx = createFeeMarket1559Tx(
      { nonce: 0n, to: A2, value: 5n, gasLimit: 21000n, maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI },
      { common: node.chain.common },
    ).sign(key)
    const sent = await rpc(node.url, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])
    expect(sent.result).toBe(bytesToHex(tx.hash()))
    await node.close()
    expect(readFileSync(join(datadir, 'txpool.journal'), 'utf8')).toContain(bytesToHex(tx.serialize()))

    node = await startDev({ datadir, blockTime: 3600 })
    try {
      expect(node.pool.get(tx.hash())).toBeDefined()
      const found = await rpc(node.url, 'eth_getTransactionByHash', [bytesToHex(tx.hash())])
      expect((found.result as { hash: string }).hash).toBe(bytesToHex(tx.hash()))
      await rpc(node.url, 'evm_mine')
      expect(node.pool.size).toBe(0)
      expect(node.chain.head.transactions.map((t) => bytesToHex(t.hash()))).toEqual([bytesToHex(tx.hash())])
    } finally {
      await node.close()
    }
    // mined now: the journal written on shutdown is empty
    expect(readFileSync(join(datadir, 'txpool.journal'), 'utf8').trim().split('\n')).toHaveLength(1)
  }, 60_000)
})
