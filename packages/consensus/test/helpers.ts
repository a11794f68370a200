import { Chain, devGenesis } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { DEFAULT_TXPOOL_OPTIONS, TxPool } from '@cairn/txpool'
import { type LogFn, type Logger, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { ADDRS } from '../../chain/test/helpers.ts'
import { DevEngine, devChainRules } from '../src/index.ts'

export const GWEI = 10n ** 9n

export interface LogRecord {
  level: 'warn' | 'error'
  obj: Record<string, unknown> | undefined
  msg: string | undefined
}

/** A logger that keeps warnings and errors. */
export function recordingLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = []
  const keep =
    (level: LogRecord['level']): LogFn =>
    (a: string | Record<string, unknown>, b?: string) => {
      if (typeof a === 'string') records.push({ level, obj: undefined, msg: a })
      else records.push({ level, obj: a, msg: b })
    }
  const logger = { ...silentLogger, warn: keep('warn'), error: keep('error'), records, child: () => logger }
  return logger
}

export interface DevSetup {
  chain: Chain
  pool: TxPool
  engine: DevEngine
}

const engines: DevEngine[] = []

/** Stops every engine made by {@link devSetup} (call in afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all(engines.splice(0).map((e) => e.stop()))
}

/**
 * A chain on MemoryKV whose engine hooks forward to a DevEngine (as the node wires it), a pool
 * over the chain's state, and the engine. Signing and recovery run on @cairn/crypto's backends.
 */
export async function devSetup(
  opts: {
    blockTime?: number
    genesis?: unknown
    now?: () => number
    logger?: Logger
    maxBlocksPerTurn?: number
    backpressureAt?: number
    quietMs?: number
    /** Automine seals all pending transactions that fit (the engine's default: one per block). */
    automineBatch?: boolean
  } = {},
): Promise<DevSetup> {
  await initCrypto()
  const kv = new MemoryKV()
  await kv.open()
  const chain = await Chain.open(
    { genesis: opts.genesis ?? devGenesis({ accounts: ADDRS }) },
    { kv, engine: devChainRules, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
  )
  const logger = opts.logger ?? silentLogger
  const pool = new TxPool(
    {
      ...DEFAULT_TXPOOL_OPTIONS,
      minTip: 0n,
      ...(opts.backpressureAt !== undefined ? { holdSendersAt: opts.backpressureAt } : {}),
    },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger, metrics: null },
  )
  const engine = new DevEngine(
    {
      blockTime: opts.blockTime ?? 0,
      coinbase: new Uint8Array(20),
      ...(opts.maxBlocksPerTurn !== undefined ? { maxBlocksPerTurn: opts.maxBlocksPerTurn } : {}),
      ...(opts.quietMs !== undefined ? { quietMs: opts.quietMs } : {}),
      ...(opts.automineBatch !== undefined ? { automineBatch: opts.automineBatch } : {}),
    },
    { chain, pool, logger, ...(opts.now ? { now: opts.now } : {}) },
  )
  engines.push(engine)
  return { chain, pool, engine }
}

/** Every block that becomes the head, in order, with the wall-clock time it arrived. */
export function recordHeads(chain: Chain): { block: Block; at: number }[] {
  const heads: { block: Block; at: number }[] = []
  chain.events.on('newHead', ({ block }) => heads.push({ block, at: performance.now() }))
  return heads
}

/** Resolves with the next head that satisfies `pred`, or rejects after `timeoutMs`. */
export function nextHead(chain: Chain, timeoutMs = 3000, pred: (b: Block) => boolean = () => true): Promise<Block> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no matching newHead within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = chain.events.on('newHead', ({ block }) => {
      if (!pred(block)) return
      clearTimeout(timer)
      off()
      resolve(block)
    })
  })
}

/** Polls `cond` until it holds, or throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
