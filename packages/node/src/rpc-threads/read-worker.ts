// The entry of one RPC read thread (`--rpc.threads`, ./pool.ts). It opens the chain's LevelDB
// beside the main thread (classic-level's `multithreading`: one shared handle), opens the chain
// over it read-only (the stored genesis; nothing written: the main thread created and repaired it),
// and answers the bodies the main thread's server forwards (`servedOnReadThread`) with its own
// dispatcher and the read methods only. Its head is the one the main thread names in front of each
// request whose head moved (messages arrive in order), so it answers at the head the main thread
// answers at. Its caches (decoded blocks, state views, VMs, eth_call outcomes) are its own, keyed
// by block hash and state root: a head message or a reorg makes nothing in them wrong.
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { Chain, type ChainEngine } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { LevelKV } from '@cairn/db'
import {
  ALL_METHODS,
  createRpcMetrics,
  type DevControls,
  NO_NETWORK,
  type RpcContext,
  RpcDispatcher,
  RpcErrorCode,
  type RpcLimits,
  type RpcMetrics,
  type RpcSecurity,
} from '@cairn/rpc'
import type { TxPool } from '@cairn/txpool'
import { CairnError, hexToBytes, type LogFn, type Logger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { shardBridge } from '../setup/shard-bridge.ts'
import { type Ask, type FromThread, HeadSeq, Outbox, type ToThread } from './messages.ts'
import { ThreadHead } from './thread-head.ts'
import { ThreadServer, type ThreadServerOptions } from './thread-server.ts'

export interface ReadWorkerData {
  /** The chain's LevelDB directory (the main thread opened it with `multithreading`). */
  chaindata: string
  /** The thread's number (the `thread` label of its metrics, its log lines). */
  thread: number
  limits: RpcLimits
  clientVersion: string
  buildCommit?: string
  /** Open the chain in reference mode (no speed shim), as the main thread's. */
  reference?: boolean
  /** The dev chain's contract code size limit, as the main thread's. */
  codeSizeLimit?: bigint
  /** A shard's place: its bridge precompile in the thread's calls. */
  shard?: { index: number; count: number }
  /** A listener of the thread's own (reusePort): the server's settings and the shared head sequence. */
  listener?: { server: ThreadServerOptions; headSeq: SharedArrayBuffer }
}

/** Import and execution are the main thread's: a read thread's engine refuses both. */
const READ_ONLY_ENGINE: ChainEngine = {
  name: 'read-thread',
  validateHeader: () => Promise.reject(refused('validate a header')),
  preferHead: () => Promise.reject(refused('choose a head')),
}

function refused(what: string): CairnError {
  return new CairnError(RpcErrorCode.NOT_SUPPORTED, `a read thread does not ${what}`, { fault: 'internal' })
}

/** The pool, the producer and dev controls live on the main thread: methods using them are never forwarded. */
function mainThreadOnly<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_t, prop) => {
      throw refused(`use ${name}.${String(prop)}`)
    },
  })
}

/** Log lines go to the main thread's logger (with the thread's number). */
function threadLogger(post: (m: FromThread) => void, bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
    (a: string | Record<string, unknown>, b?: string) => {
      const obj = typeof a === 'string' ? bindings : { ...bindings, ...a }
      const msg = typeof a === 'string' ? a : (b ?? '')
      // Errors do not survive the structured clone as such: their message does.
      const safe = Object.fromEntries(
        Object.entries(obj).map(([k, v]) => [k, v instanceof Error ? { message: v.message, stack: v.stack } : v]),
      )
      post({ type: 'log', level, obj: safe, msg })
    }
  const noop: LogFn = () => {}
  return {
    trace: noop,
    debug: noop,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('error'),
    child: (more) => threadLogger(post, { ...bindings, ...more }),
  }
}

async function main(data: ReadWorkerData): Promise<void> {
  const port = parentPort
  if (!port) {
    throw new CairnError(RpcErrorCode.READ_THREAD_STOPPED, 'read-worker runs as a worker thread', { fault: 'internal' })
  }
  const outbox = new Outbox<FromThread>((items) => port.postMessage(items))
  const post = (m: FromThread) => outbox.push(m)
  const logger = threadLogger(post)
  await initCrypto()
  // A damaged entry a read finds is the node's to log, count and report (/ready): told to the main thread.
  const onCorruption = (err: CairnError) => post({ type: 'corruption', message: err.message })
  const kv = new LevelKV({ path: data.chaindata, multithreading: true }, { onCorruption })
  await kv.open()
  // No node ring of its own (`cache.state`): one per thread would multiply it; the threads share
  // LevelDB's block cache.
  const chain = await Chain.open(
    {
      stateCacheBytes: 0,
      ...(data.reference ? { reference: true } : {}),
      ...(data.codeSizeLimit !== undefined ? { codeSizeLimit: data.codeSizeLimit } : {}),
    },
    {
      kv,
      engine: READ_ONLY_ENGINE,
      logger,
      metrics: null,
      customCrypto: createCustomCrypto(),
      onCorruption,
      ...(data.shard ? { extendVM: shardBridge(data.shard) } : {}),
    },
  )
  const ctx: RpcContext = {
    chain,
    pool: mainThreadOnly<TxPool>('the pool'),
    producer: mainThreadOnly<RpcContext['producer']>('the producer'),
    dev: null as DevControls | null,
    network: NO_NETWORK,
    accounts: { addresses: () => [], privateKey: () => undefined },
    clientVersion: data.clientVersion,
    ...(data.buildCommit ? { buildCommit: data.buildCommit } : {}),
    limits: data.limits,
    logger,
    metrics: null,
  }
  const registry = new Registry()
  // Merged into the node's /metrics (pool.ts, metricsPage): what this thread answered carries its number.
  registry.setDefaultLabels({ thread: String(data.thread) })
  const metrics = data.listener ? createRpcMetrics(registry) : null
  const dispatcher = new RpcDispatcher(
    { dev: false, testing: false },
    { ctx, methods: ALL_METHODS.filter((m) => m.readThread !== undefined), metrics, logger },
  )

  // The head in force for the requests behind it: the last one named is applied before the next
  // request is dispatched (./thread-head.ts). One that cannot be read leaves the thread unable to
  // answer at the main thread's head: it exits, and the pool restarts it (and answers what was in
  // flight with an error).
  const setHead = async (hash: string, clear: boolean, edits: boolean) => {
    try {
      const followed = await chain.followHead(hexToBytes(hash as `0x${string}`), {
        clearCaches: clear,
        reloadEdits: edits,
      })
      if (!followed) {
        throw new CairnError(RpcErrorCode.READ_THREAD_STOPPED, `read thread: head ${hash} is not stored`, {
          fault: 'internal',
        })
      }
    } catch (err) {
      logger.error({ err }, 'read thread cannot follow the head')
      outbox.flush()
      process.exit(1)
    }
  }
  const head = new ThreadHead(setHead, data.listener ? new HeadSeq(data.listener.headSeq) : null)
  const headSynced = () => head.ready()

  // Questions to the main thread (a listening thread's forwarded bodies, rate limits, /ready, /metrics).
  let nextAsk = 1
  const asked = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  const ask = (q: Ask) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextAsk++
      asked.set(id, { resolve, reject })
      post({ type: 'ask', id, ask: q })
    })
  const server = data.listener
    ? new ThreadServer(data.listener.server, {
        local: dispatcher,
        headSynced,
        ask,
        closed: (conn) => post({ type: 'ws-close', conn }),
        limits: data.limits,
        registry,
        metrics: metrics as RpcMetrics,
        logger,
      })
    : null

  const receive = (m: ToThread) => {
    switch (m.type) {
      case 'head':
        head.named(m)
        return
      case 'request': {
        const { id, text } = m
        const run = () => dispatcher.handleText(text, {})
        const synced = head.ready()
        void (synced ? synced.then(run) : run()).then(
          (answer) => post({ type: 'response', id, text: answer }),
          (err: unknown) => {
            logger.error({ err }, 'read thread failed a request')
            post({ type: 'response', id, text: undefined, failed: true })
          },
        )
        return
      }
      case 'answer': {
        const a = asked.get(m.id)
        if (!a) return
        asked.delete(m.id)
        if (m.error !== undefined)
          a.reject(new CairnError(RpcErrorCode.READ_THREAD_STOPPED, m.error, { fault: 'internal' }))
        else a.resolve(m.value)
        return
      }
      case 'ws-send':
        server?.send(m.conn, m.text)
        return
      case 'listen':
        if (!server) return
        server.listen(m.port).then(
          () => post({ type: 'listening' }),
          (err: unknown) => post({ type: 'listening', error: (err as Error).message }),
        )
        return
      case 'reconfigure':
        server?.reconfigure(m.security as RpcSecurity)
        return
      case 'reload-tls':
        server?.reloadTls()
        return
      case 'metrics':
        void registry.getMetricsAsJSON().then((json) => post({ type: 'metrics', id: m.id, json }))
        return
      case 'stop':
        void (server ? server.close() : Promise.resolve())
          .catch(() => {})
          .then(() => {
            outbox.flush()
            return kv.close()
          })
          .finally(() => process.exit(0))
        return
    }
  }
  port.on('message', (batch: ToThread[]) => {
    for (const m of batch) receive(m)
  })
  post({ type: 'ready', head: `0x${Buffer.from(chain.head.hash()).toString('hex')}` })
}

if (!isMainThread && parentPort) {
  main(workerData as ReadWorkerData).catch((err: unknown) => {
    parentPort?.postMessage([
      {
        type: 'log',
        level: 'error',
        obj: { err: { message: (err as Error).message, stack: (err as Error).stack } },
        msg: 'read thread failed to start',
      } satisfies FromThread,
    ])
    process.exit(1)
  })
}
