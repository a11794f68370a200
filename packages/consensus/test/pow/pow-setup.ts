import { Chain } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, TxPool } from '@cairn/txpool'
import { type Logger, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Registry } from 'prom-client'
import { ADDRS } from '../../../chain/test/helpers.ts'
import {
  createPowMetrics,
  nonceBytes,
  type PowChainParams,
  PowEngine,
  type PowEngineOptions,
  type PowMetrics,
  parsePowConfig,
  powGenesis,
  type Seal,
  trySealHash,
} from '../../src/pow/index.ts'

export const GENESIS_TIME = 1_700_000_000
export const COINBASE = Uint8Array.from({ length: 20 }, (_, i) => 0xc0 + i)

/** Test parameters: 64 KiB a seal, a target of about two attempts a block, 12 s spacing. */
export function testParams(): PowChainParams {
  return parsePowConfig({
    config: {
      cairn: { pow: { powLimit: '0x207fffff', genesisBits: '0x207fffff', seal: { memoryKiB: 64, iterations: 1 } } },
    },
  })
}

export function testGenesis(params = testParams()): Record<string, unknown> {
  const alloc: Record<string, bigint> = {}
  for (const a of ADDRS) alloc[a] = 10n ** 24n
  return powGenesis({ chainId: 4242, params, alloc, timestamp: GENESIS_TIME })
}

export interface PowSetup {
  chain: Chain
  pool: TxPool
  engine: PowEngine
  metrics: PowMetrics
  registry: Registry
  clock: { now: number }
}

const engines: PowEngine[] = []

export async function stopAllPow(): Promise<void> {
  await Promise.all(engines.splice(0).map((e) => e.stop()))
}

/**
 * A PoW chain on MemoryKV with its engine (attached and started), a pool, metrics, and a clock in
 * seconds the test moves (`clock.now`; starts one spacing after the genesis).
 */
export async function powSetup(
  opts: Partial<PowEngineOptions> & { logger?: Logger; genesis?: unknown } = {},
): Promise<PowSetup> {
  await initCrypto()
  const params = opts.params ?? testParams()
  const clock = { now: GENESIS_TIME + 12 }
  const registry = new Registry()
  const metrics = createPowMetrics(registry, { coinbase: '0xc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3' })
  const logger = opts.logger ?? silentLogger
  const engine = new PowEngine(
    { coinbase: COINBASE, ...opts, params },
    { logger, metrics, now: () => clock.now, clockMs: () => clock.now * 1000 },
  )
  const kv = new MemoryKV()
  await kv.open()
  const chain = await Chain.open(
    { genesis: opts.genesis ?? testGenesis(params), blocks: { maxFutureSeconds: 1_000_000_000 } },
    { kv, engine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger, metrics: null },
  )
  engine.attach({ chain, pool })
  await engine.start()
  engines.push(engine)
  return { chain, pool, engine, metrics, registry, clock }
}

/** Searches nonces from 0 for a seal of `sealHash` at or below `target` (the test's target is easy). */
export async function findSeal(sealHash: Uint8Array, target: bigint, params = testParams()): Promise<Seal> {
  for (let n = 0n; ; n++) {
    const seal = await trySealHash(sealHash, n, params.seal, target)
    if (seal) return seal
  }
}

/** Mines one block through the work API at `time` (the clock moved there first). */
export async function mineVia(s: PowSetup, time?: number): Promise<Block> {
  if (time !== undefined) s.clock.now = time
  else s.clock.now = Number(s.chain.head.header.timestamp) + 12
  const [hash, , boundary] = await s.engine.getWork()
  const seal = await findSeal(hexBytes(hash), BigInt(boundary))
  await s.engine.submitWork(seal.nonce, hexBytes(hash), seal.mixHash)
  return s.chain.head
}

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}

export { nonceBytes }
