/**
 * `cairn miner --url http://… --threads N`: the reference external miner. It speaks only geth's
 * work API — `eth_getWork` for the current work (seal hash, seed hash with the seal's parameters,
 * boundary), `eth_submitWork` for each seal found, `eth_submitHashrate` for its rate — and searches
 * nonces on N worker threads (the engine's own MinerPool). A GPU miner is this client with another
 * hashing back end; none can be tested on this machine. It polls for new work every `--poll-ms`
 * and switches as soon as the seal hash changes (a new head, or new transactions).
 */
import { randomBytes } from 'node:crypto'
import { MinerPool, PowErrorCode, type Seal, sealParamsOfSeedHash } from '@cairn/consensus/pow'
import { bytesToHex, CairnError, hexToBytes, type Logger, silentLogger } from '@cairn/utils'
import { type Command, InvalidArgumentError } from 'commander'
import { mineWorkerUrl } from '../../mine-worker-url.ts'

function positive(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1024) throw new InvalidArgumentError('expected 1 to 1024')
  return Number(v)
}

interface MinerOptions {
  url: string
  threads: number
  pollMs: number
  blocks?: number
}

/** One JSON-RPC call; a JSON-RPC error becomes a CairnError carrying its `data.code` when given. */
async function call(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as {
    result?: unknown
    error?: { code: number; message: string; data?: { code?: string } }
  }
  if (body.error) {
    throw new CairnError(
      (body.error.data?.code as PowErrorCode | undefined) ?? PowErrorCode.NO_WORK,
      `${method}: ${body.error.message} (${body.error.code})`,
      { fault: 'transient' },
    )
  }
  return body.result
}

/** Mines against `url` until `blocks` seals were accepted (forever without), or the signal. */
export async function runMiner(
  opts: MinerOptions,
  modules: { out: (line: string) => void; logger?: Logger; signal?: AbortSignal },
): Promise<number> {
  const { out } = modules
  let accepted = 0
  let current: { sealHash: string; number: string } | undefined
  let jobId = 0
  let pool: MinerPool | undefined
  let seal: { memoryKiB: number; iterations: number } | undefined
  const hashId = bytesToHex(randomBytes(32))
  const worker = mineWorkerUrl()
  let done: () => void = () => {}
  const finished = new Promise<void>((r) => {
    done = r
  })
  const found: { id: number; seal: Seal; hash: string; number: string }[] = []
  const submit = async (f: (typeof found)[number]) => {
    try {
      await call(opts.url, 'eth_submitWork', [bytesToHex(f.seal.nonce), f.hash, bytesToHex(f.seal.mixHash)])
      accepted++
      out(`block ${BigInt(f.number)} sealed (${accepted} accepted)`)
      if (opts.blocks !== undefined && accepted >= opts.blocks) done()
    } catch (err) {
      out(`seal for block ${BigInt(f.number)} refused: ${(err as CairnError).code}`)
    }
  }
  const poll = async () => {
    const work = (await call(opts.url, 'eth_getWork', [])) as [string, string, string, string]
    const [hash, seed, boundary, number] = work
    if (current?.sealHash === hash) return
    const params = sealParamsOfSeedHash(hexToBytes(seed as `0x${string}`))
    if (!params) {
      throw new CairnError(
        PowErrorCode.INVALID_PARAMS,
        `eth_getWork: seed hash ${seed} names no Argon2id seal this miner knows`,
        {
          fault: 'caller',
          hint: 'is the node a Cairn proof-of-work chain?',
        },
      )
    }
    if (!pool || seal?.memoryKiB !== params.memoryKiB || seal.iterations !== params.iterations) {
      await pool?.close()
      seal = params
      pool = new MinerPool(
        { threads: opts.threads, seal: params, ...(worker ? { worker } : {}) },
        {
          logger: modules.logger ?? silentLogger,
          onFound: (id, s) => {
            if (id !== jobId || !current) return
            const f = { id, seal: s, hash: current.sealHash, number: current.number }
            current = undefined // one submission per work: the next poll fetches the new work
            void submit(f)
          },
        },
      )
    }
    current = { sealHash: hash, number }
    jobId = pool.mine(hexToBytes(hash as `0x${string}`), BigInt(boundary))
    out(`work for block ${BigInt(number)}: ${hash.slice(0, 18)}… boundary ${boundary.slice(0, 18)}…`)
  }
  let lastRate = Date.now()
  const timer = setInterval(() => {
    void poll().catch((err) => out(`eth_getWork failed: ${(err as Error).message}`))
    if (pool && Date.now() - lastRate >= 5000) {
      lastRate = Date.now()
      const rate = Math.round(pool.hashRate())
      void call(opts.url, 'eth_submitHashrate', [`0x${rate.toString(16)}`, hashId]).catch(() => {})
    }
  }, opts.pollMs)
  modules.signal?.addEventListener('abort', () => done(), { once: true })
  try {
    await poll()
    await finished
  } finally {
    clearInterval(timer)
    await pool?.close()
  }
  return accepted
}

/** Registers `cairn miner`. */
export function registerMiner(program: Command): void {
  program
    .command('miner')
    .description("an external proof-of-work miner: eth_getWork / eth_submitWork against a node's JSON-RPC")
    .option('--url <url>', "the node's JSON-RPC URL", 'http://127.0.0.1:8545')
    .option('--threads <n>', 'mining threads', positive, 1)
    .option('--poll-ms <ms>', 'how often to ask for new work', positive, 500)
    .option('--blocks <n>', 'stop after this many accepted seals (default: mine until stopped)', positive)
    .addHelpText('after', '\nExample:\n  $ cairn miner --url http://127.0.0.1:8545 --threads 2\n')
    .action(async (opts: MinerOptions) => {
      const abort = new AbortController()
      const stop = () => abort.abort()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      const accepted = await runMiner(opts, { out: (line) => process.stdout.write(`${line}\n`), signal: abort.signal })
      process.stdout.write(`stopped: ${accepted} seals accepted\n`)
    })
}
