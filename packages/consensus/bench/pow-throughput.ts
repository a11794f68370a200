// Proof-of-work throughput (issue 68's bench; `npm run bench` runs it with BENCH_POW=1):
// Run in this order: the import (the last item below), the verifications, the threads.
// - header verifications per second (`verifySeal`: one Argon2id) at the default seal (1 MiB, one
//   pass) and at 64 KiB, with hash-wasm, the seal's library. @node-rs/argon2, the other library
//   the docs compare, is not a dependency of this tree: it is reported as not measured;
// - the hash rate per thread of the mining threads (`MinerPool`, the node's `--miner.threads`) at
//   the default seal, with 1 and 2 threads, for BENCH_POW_SECONDS (6) each from the first report of a thread;
// - the import rate of a BENCH_POW_BLOCKS (10,000)-block PoW chain (empty blocks, 12 s apart, each
//   sealed through the work API at the smallest seal, 64 KiB, and a target of ~2 attempts: mining
//   10,000 blocks at 1 MiB and a real target would take hours here) into a second chain on LevelDB
//   (header checks, ASERT, one Argon2id each, commit), against the same import of a dev chain of as
//   many empty blocks: what proof of work adds to importing a block.
//   node --import tsx packages/consensus/bench/pow-throughput.ts   (BENCH_JSON=1: a RESULT line)
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Chain, devGenesis } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { type KVStore, LevelKV, MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, TxPool } from '@cairn/txpool'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { createBlockFromRLP } from '@ethereumjs/block'
import { devChainRules } from '../src/index.ts'
import {
  DEFAULT_SEAL_PARAMS,
  MinerPool,
  type PowChainParams,
  PowEngine,
  parsePowConfig,
  powGenesis,
  trySealHash,
  verifySeal,
} from '../src/pow/index.ts'

export interface PowBenchFigure {
  verify: { library: string; memoryKiB: number; perSecond: number; cpuMs: number }[]
  notMeasured: string[]
  hashRate: { threads: number; perSecond: number; perThread: number }[]
  import: { blocks: number; memoryKiB: number; powPerSecond: number; devPerSecond: number; mineSeconds: number }
  load: string[]
  cores: number
}

const env = process.env
const BLOCKS = Number(env.BENCH_POW_BLOCKS ?? 10_000)
const SECONDS = Number(env.BENCH_POW_SECONDS ?? 6)
const VERIFY_N = Number(env.BENCH_POW_VERIFY ?? 200)
const GENESIS_TIME = 1_700_000_000
const progress = (msg: string) => process.stderr.write(`[pow] ${msg}\n`)

async function verifyRate(memoryKiB: number): Promise<{ perSecond: number; cpuMs: number }> {
  const params = parsePowConfig({
    config: {
      cairn: { pow: { powLimit: '0x207fffff', genesisBits: '0x207fffff', seal: { memoryKiB, iterations: 1 } } },
    },
  })
  const e = await engineNode(new MemoryKV(), params)
  try {
    const [hash, , boundary] = await e.engine.getWork()
    const sealHash = Buffer.from(hash.slice(2), 'hex')
    let seal: Awaited<ReturnType<typeof trySealHash>>
    for (let k = 0n; !seal; k++) seal = await trySealHash(sealHash, k, params.seal, BigInt(boundary))
    await e.engine.submitWork(seal.nonce, sealHash, seal.mixHash)
    const sealed = e.chain.head.header
    const target = BigInt(boundary)
    await verifySeal(sealed, params.seal, target) // warm: the WebAssembly module compiles
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < VERIFY_N; i++) await verifySeal(sealed, params.seal, target)
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    return { perSecond: (VERIFY_N * 1000) / ms, cpuMs: (cpu.user + cpu.system) / 1000 / VERIFY_N }
  } finally {
    await e.close()
  }
}

async function hashRate(threads: number): Promise<number> {
  let counted = 0
  let counting = false
  let warm: () => void = () => {}
  const warmed = new Promise<void>((r) => {
    warm = r
  })
  const pool = new MinerPool(
    { threads, seal: { ...DEFAULT_SEAL_PARAMS } },
    {
      logger: silentLogger,
      onFound: () => {},
      onHashes: (n) => {
        if (counting) counted += n
        else warm()
      },
    },
  )
  try {
    pool.mine(new Uint8Array(32).fill(7), 1n) // a target no attempt meets
    // Counted from a thread's first report on (a thread loads its code first: seconds under tsx).
    await warmed
    counting = true
    const t0 = performance.now()
    await new Promise((r) => setTimeout(r, SECONDS * 1000))
    counting = false
    return (counted * 1000) / (performance.now() - t0)
  } finally {
    await pool.close()
  }
}

interface EngineNode {
  chain: Chain
  engine: PowEngine
  clock: { now: number }
  close(): Promise<void>
}

async function engineNode(kv: KVStore, params: PowChainParams): Promise<EngineNode> {
  await kv.open()
  const clock = { now: GENESIS_TIME }
  const engine = new PowEngine(
    { params, coinbase: new Uint8Array(20).fill(0xc0), maxReorgDepth: 10 },
    { logger: silentLogger, metrics: null, now: () => clock.now, clockMs: () => clock.now * 1000 },
  )
  const genesis = powGenesis({ chainId: 4242, params, timestamp: GENESIS_TIME })
  const chain = await Chain.open(
    { genesis, blocks: { maxFutureSeconds: 1_000_000_000 } },
    { kv, engine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
  )
  engine.attach({ chain, pool })
  await engine.start()
  return {
    chain,
    engine,
    clock,
    close: async () => {
      await engine.stop()
      await kv.close()
    },
  }
}

/** `n` empty PoW blocks 12 s apart, each sealed through the work API; their RLP. */
async function minePow(params: PowChainParams, n: number): Promise<Uint8Array[]> {
  const s = await engineNode(new MemoryKV(), params)
  const out: Uint8Array[] = []
  try {
    for (let i = 0; i < n; i++) {
      s.clock.now = Number(s.chain.head.header.timestamp) + 12
      const [hash, , boundary] = await s.engine.getWork()
      const sealHash = Buffer.from(hash.slice(2), 'hex')
      for (let k = 0n; ; k++) {
        const seal = await trySealHash(sealHash, k, params.seal, BigInt(boundary))
        if (!seal) continue
        await s.engine.submitWork(seal.nonce, sealHash, seal.mixHash)
        break
      }
      if (s.chain.head.header.number !== BigInt(i + 1)) throw new Error(`block ${i + 1} was not sealed`)
      out.push(s.chain.head.serialize())
      if ((i + 1) % 2000 === 0) progress(`mined ${i + 1}/${n}`)
    }
    return out
  } finally {
    await s.close()
  }
}

/** `n` empty dev blocks 12 s apart; their RLP. */
async function mineDev(n: number): Promise<{ genesis: unknown; blocks: Uint8Array[] }> {
  const genesis = devGenesis({ chainId: 4243n, accounts: [], timestamp: BigInt(GENESIS_TIME) })
  const kv = new MemoryKV()
  await kv.open()
  const chain = await Chain.open(
    { genesis },
    { kv, engine: devChainRules, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  const none = { peek: () => undefined, shift: () => {}, pop: () => {} }
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const built = await chain.build(chain.head, { timestamp: chain.head.header.timestamp + 12n }, none)
    await chain.committer.commit(built)
    out.push(built.block.serialize())
  }
  await kv.close()
  return { genesis, blocks: out }
}

/** Blocks a second importing `blocks` (decoded from RLP, checked, executed, committed) into `chain`. */
async function importRate(chain: Chain, blocks: Uint8Array[]): Promise<number> {
  const t0 = performance.now()
  for (const rlp of blocks) {
    const block = createBlockFromRLP(rlp, { common: chain.common })
    const res = await chain.processBlock(block, { source: 'file' })
    if (res.status !== 'imported' || !res.head) throw new Error(`block ${block.header.number}: ${res.status}`)
  }
  const ms = performance.now() - t0
  const last = createBlockFromRLP(blocks[blocks.length - 1] as Uint8Array, { common: chain.common })
  if (bytesToHex(chain.head.hash()) !== bytesToHex(last.hash()))
    throw new Error('the import did not end at the last block')
  return (blocks.length * 1000) / ms
}

await initCrypto()
const figure: PowBenchFigure = {
  verify: [],
  notMeasured: ['@node-rs/argon2: not a dependency of this tree'],
  hashRate: [],
  import: { blocks: BLOCKS, memoryKiB: 64, powPerSecond: 0, devPerSecond: 0, mineSeconds: 0 },
  load: [],
  cores: cpus().length,
}
if (BLOCKS > 0) {
  const params = parsePowConfig({
    config: {
      cairn: {
        pow: { powLimit: '0x207fffff', genesisBits: '0x207fffff', seal: { memoryKiB: 64, iterations: 1 } },
      },
    },
  })
  const t0 = performance.now()
  const pow = await minePow(params, BLOCKS)
  figure.import.mineSeconds = (performance.now() - t0) / 1000
  const dev = await mineDev(BLOCKS)
  progress(`mined ${BLOCKS} PoW blocks in ${figure.import.mineSeconds.toFixed(0)} s and ${BLOCKS} dev blocks`)
  for (const kind of ['pow', 'dev'] as const) {
    const dir = mkdtempSync(join(tmpdir(), `cairn-pow-bench-${kind}-`))
    try {
      if (kind === 'pow') {
        const b = await engineNode(new LevelKV({ path: dir }), params)
        b.clock.now = GENESIS_TIME + 12 * (BLOCKS + 10)
        figure.import.powPerSecond = await importRate(b.chain, pow)
        await b.close()
      } else {
        const kv = new LevelKV({ path: dir })
        await kv.open()
        const chain = await Chain.open(
          { genesis: dev.genesis },
          { kv, engine: devChainRules, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
        )
        figure.import.devPerSecond = await importRate(chain, dev.blocks)
        await kv.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    progress(`imported ${BLOCKS} ${kind} blocks`)
  }
}
// 64 KiB first: hash-wasm keeps its WebAssembly memory between calls, and 64 KiB Argon2id runs
// after 1 MiB ones cost as much as those did here (8 ms of CPU, not 2). The import (64 KiB seals)
// comes before both for the same reason.
for (const memoryKiB of [64, DEFAULT_SEAL_PARAMS.memoryKiB]) {
  const r = await verifyRate(memoryKiB)
  figure.verify.push({ library: 'hash-wasm', memoryKiB, ...r })
  progress(`verifySeal ${memoryKiB} KiB: ${r.perSecond.toFixed(0)}/s, ${r.cpuMs.toFixed(2)} ms CPU each`)
}
for (const threads of [1, 2]) {
  const perSecond = await hashRate(threads)
  figure.hashRate.push({ threads, perSecond, perThread: perSecond / threads })
  progress(`${threads} mining thread(s): ${perSecond.toFixed(0)} attempts/s`)
}
figure.load = loadavg().map((l) => l.toFixed(2))
if (env.BENCH_JSON === '1') console.log(`RESULT ${JSON.stringify(figure)}`)
else console.log(JSON.stringify(figure, null, 2))
