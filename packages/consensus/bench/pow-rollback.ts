// The cost of a proof-of-work reorg (issue 68's "state rollback in O(depth), measured for depths
// 1, 10 and 100"): a node on LevelDB holds a branch of `depth` blocks, is sent a heavier branch
// of `depth + 1` blocks forking at the same parent, and switches to it at the last one. Each
// block carries one transfer, so the switch also unindexes the old branch's transactions and
// puts them back in the pool. State is never rolled back by undoing writes: tries are shared by
// content, so the switch rewrites the canonical index (O(depth) entries) and moves the head to the
// new branch's state root; what grows with depth is that index work and the pool's re-adds.
// Printed: the import of the block that makes the switch (wall ms, until the pool has the reverted
// transactions back) against the median import of a block that extends the head (the same work
// less the switch), and their difference: the rollback, in all and per reverted block.
//   node --import tsx packages/consensus/bench/pow-rollback.ts [depths=1,10,100] [runs=3]
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Chain } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { type KVStore, LevelKV, MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, followChain, TxPool } from '@cairn/txpool'
import { silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
import { type PowChainParams, PowEngine, parsePowConfig, powGenesis, trySealHash } from '../src/pow/index.ts'

const DEPTHS = (process.argv[2] ?? '1,10,100').split(',').map(Number)
const RUNS = Number(process.argv[3] ?? 3)
const GENESIS_TIME = 1_700_000_000

const params: PowChainParams = parsePowConfig({
  config: {
    cairn: {
      pow: { powLimit: '0x207fffff', genesisBits: '0x207fffff', seal: { memoryKiB: 64, iterations: 1 } },
    },
  },
})
const alloc: Record<string, bigint> = {}
for (const a of ADDRS) alloc[a] = 10n ** 24n
const genesis = powGenesis({ chainId: 4242, params, alloc, timestamp: GENESIS_TIME })

interface Node {
  chain: Chain
  pool: TxPool
  engine: PowEngine
  clock: { now: number }
  close(): Promise<void>
}

async function node(kv: KVStore, extra: string): Promise<Node> {
  await kv.open()
  const clock = { now: GENESIS_TIME }
  const engine = new PowEngine(
    { params, coinbase: new Uint8Array(20).fill(0xc0), maxReorgDepth: 1_000_000, extraData: Buffer.from(extra) },
    { logger: silentLogger, metrics: null, now: () => clock.now, clockMs: () => clock.now * 1000 },
  )
  const chain = await Chain.open(
    { genesis, blocks: { maxFutureSeconds: 1_000_000_000 } },
    { kv, engine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
  )
  const follower = followChain(pool, chain.events, { logger: silentLogger })
  engine.attach({ chain, pool, follower })
  await engine.start()
  return {
    chain,
    pool,
    engine,
    clock,
    close: async () => {
      await engine.stop()
      follower.stop()
      await kv.close()
    },
  }
}

/** `n` blocks on `s`, 12 s apart, each with one transfer from `key` (nonces from `nonce`). */
async function mine(s: Node, n: number, key: Uint8Array, nonce: bigint): Promise<Block[]> {
  const out: Block[] = []
  for (let i = 0; i < n; i++) {
    await s.pool.add(transfer(s.chain.common, key, nonce + BigInt(i), `0x${'be'.repeat(20)}`, 1n), { source: 'local' })
    s.clock.now = Number(s.chain.head.header.timestamp) + 12
    const [hash, , boundary] = await s.engine.getWork()
    const sealHashBytes = Buffer.from(hash.slice(2), 'hex')
    for (let k = 0n; ; k++) {
      const seal = await trySealHash(sealHashBytes, k, params.seal, BigInt(boundary))
      if (!seal) continue
      await s.engine.submitWork(seal.nonce, sealHashBytes, seal.mixHash)
      break
    }
    out.push(s.chain.head)
  }
  return out
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number

async function measure(depth: number): Promise<{ switchMs: number; baseMs: number; reverted: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pow-rollback-'))
  const a = await node(new LevelKV({ path: dir }), 'branch a')
  const b = await node(new MemoryKV(), 'branch b')
  try {
    // A common prefix, imported by a as head blocks: the baseline (execute, commit, pool update).
    const prefix = await mine(b, 7, KEYS[1] as Uint8Array, 0n)
    a.clock.now = b.clock.now
    const base: number[] = []
    for (const blk of prefix) {
      const t = performance.now()
      await a.chain.processBlock(blk, { source: 'gossip', peer: 'b' })
      base.push(performance.now() - t)
    }
    await mine(a, depth, KEYS[0] as Uint8Array, 0n)
    const heavier = await mine(b, depth + 1, KEYS[2] as Uint8Array, 0n)
    a.clock.now = b.clock.now
    for (const blk of heavier.slice(0, depth)) await a.chain.processBlock(blk, { source: 'gossip', peer: 'b' })
    const reverted: number[] = []
    a.chain.events.on('reorg', ({ removed }) => reverted.push(removed.length))
    const last = heavier[depth] as Block
    const t = performance.now()
    await a.chain.processBlock(last, { source: 'gossip', peer: 'b' })
    await a.engine.stop() // settles the pool's follower: the reverted transactions are back
    const switchMs = performance.now() - t
    if (!a.chain.head.hash().every((x, i) => x === last.hash()[i])) throw new Error('the heavier branch did not win')
    if (reverted[0] !== depth) throw new Error(`the switch reverted ${reverted[0]} blocks, not ${depth}`)
    return { switchMs, baseMs: median(base.slice(2)), reverted: reverted[0] ?? 0 }
  } finally {
    await a.close()
    await b.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await initCrypto()
console.log(
  `node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; LevelDB; ${RUNS} runs, median`,
)
console.log('depth  reverted  switch ms  head-block ms  rollback ms  per block')
for (const depth of DEPTHS) {
  const runs = []
  for (let r = 0; r < RUNS; r++) runs.push(await measure(depth))
  runs.sort((x, y) => x.switchMs - x.baseMs - (y.switchMs - y.baseMs))
  const m = runs[Math.floor(runs.length / 2)] as (typeof runs)[number]
  const rollback = m.switchMs - m.baseMs
  console.log(
    `${String(depth).padStart(5)}  ${String(m.reverted).padStart(8)}  ${m.switchMs.toFixed(1).padStart(9)}  ${m.baseMs.toFixed(1).padStart(13)}  ${rollback.toFixed(1).padStart(11)}  ${(rollback / depth).toFixed(2).padStart(9)}`,
  )
}
