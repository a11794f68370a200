/**
 * `cairn devnet init --shards S --validators V --dir D` and `cairn devnet start --dir D`: a sharded
 * network on this machine (docs/consensus/sharding.md). Shard k (0..S−1) is a BFT devnet of its own
 * in `D/shard-k/` (as `devnet init --validators V` writes one): chain id 1337 + k, `config.cairn.shard
 * = { index: k, count: S }` in its genesis, node i's JSON-RPC on P + 1 + k·V + i − 1 and p2p on
 * Q + k·V + i − 1 (P = `--base-port`, Q = `--p2p-base-port`), its nodes bootnodes of each other only.
 * Each validator's operator account lives on its own shard (its key is drawn until it does), so it
 * can send its shard's staking transactions. `D/gateway.json` names each shard's chain id and first
 * node's URL, and the gateway's port: P.
 *
 * `start` runs every shard's nodes (`cairn start --config D/shard-k/node-i.toml`, output prefixed
 * `[shard-k/node-i]`) and, once every shard answers, the gateway (`cairn gateway`'s) on P inside this
 * supervisor: S·V + 1 processes. One failure domain per node: a shard's crash or halt leaves the
 * others and the gateway running (the gateway lists it `"available": false`); the supervisor's
 * own end stops everything, as `devnet start` does for one devnet. Ctrl-C stops all.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { resolveBftConfig } from '@cairn/consensus'
import { bridgeGenesisAlloc, homeShard, type PeerShard } from '@cairn/consensus/shard'
import { isValidPrivateKey, privateKeyToAddress } from '@cairn/crypto'
import { createLogger, createMetricsRegistry } from '@cairn/service-kit'
import { bytesToHex, CairnError, errorMessage } from '@cairn/utils'
import { DEFAULT_DEV_MNEMONIC, devAccounts } from '../dev-accounts.ts'
import { NodeErrorCode } from '../errors.ts'
import { Gateway } from '../gateway/gateway.ts'
import { createRelayerMetrics, Relayer } from '../gateway/relayer.ts'
import { VERSION } from '../version.ts'
import { type DevnetInitOptions, initDevnet, nodeConfigs } from './commands/devnet.ts'

/** Chain id of shard 0; shard k's is this + k. */
export const SHARD_BASE_CHAIN_ID = 1337

/** `D/gateway.json`: what `devnet start` runs the gateway with. */
export interface ShardedDevnetFile {
  host: string
  port: number
  shards: { id: number; chainId: number; url: string; dir: string }[]
}

export interface ShardedDevnetOptions extends DevnetInitOptions {
  shards: number
}

function devnetError(message: string, hint?: string): CairnError {
  return new CairnError(NodeErrorCode.DEVNET_OPTIONS, message, { fault: 'caller', ...(hint ? { hint } : {}) })
}

/**
 * Writes a validator key whose operator address lives on shard `shard` of `count`, unless the
 * node's key exists (`loadOrCreateKey` in `initDevnet` then reads it).
 */
function homedValidatorKey(datadir: string, shard: number, count: number): void {
  const path = join(datadir, 'keys', 'validator.key')
  if (existsSync(path)) return
  let key: Uint8Array
  do key = Uint8Array.from(randomBytes(32))
  while (!isValidPrivateKey(key) || homeShard(privateKeyToAddress(key), count) !== shard)
  mkdirSync(join(datadir, 'keys'), { recursive: true, mode: 0o700 })
  writeFileSync(path, `${Buffer.from(key).toString('hex')}\n`, { mode: 0o600 })
  chmodSync(path, 0o600)
}

/** Writes the shards and `gateway.json`; returns what it wrote. */
export async function initShardedDevnet(opts: ShardedDevnetOptions): Promise<ShardedDevnetFile> {
  const dir = resolve(opts.dir)
  if (existsSync(join(dir, 'gateway.json')) || nodeConfigs(dir).length > 0) {
    throw new CairnError(NodeErrorCode.DEVNET_DIR, `${dir} already holds a devnet`, {
      fault: 'caller',
      hint: 'use another --dir, or remove it to start over',
    })
  }
  const v = opts.validators
  if (opts.basePort + 1 + opts.shards * v > 65_535 || opts.p2pBasePort + opts.shards * v > 65_535) {
    throw devnetError(`${opts.shards} shards × ${v} validators do not fit below port 65535 from the base ports`)
  }
  const file: ShardedDevnetFile = { host: '127.0.0.1', port: opts.basePort, shards: [] }
  for (let k = 0; k < opts.shards; k++) {
    const shardDir = join(dir, `shard-${k}`)
    // A validator's operator signs staking transactions on its shard: it must live there (a
    // ML-DSA-only validator is known by its ML-DSA key; its operator is still the secp256k1 key).
    for (let i = 1; i <= v; i++) homedValidatorKey(join(shardDir, `node-${i}`), k, opts.shards)
    const basePort = opts.basePort + 1 + k * v
    await initDevnet({
      ...opts,
      dir: shardDir,
      basePort,
      p2pBasePort: opts.p2pBasePort + k * v,
      chainId: BigInt(SHARD_BASE_CHAIN_ID + k),
      shard: { index: k, count: opts.shards },
    })
    file.shards.push({
      id: k,
      chainId: SHARD_BASE_CHAIN_ID + k,
      url: `http://127.0.0.1:${basePort}`,
      dir: `shard-${k}`,
    })
  }
  await placeBridges(dir, file)
  writeFileSync(join(dir, 'gateway.json'), `${JSON.stringify(file, null, 2)}\n`)
  return file
}

/**
 * Places the bridge in each shard's genesis with a light client of every other shard at its
 * genesis: its chain id and the validator set of its height 1 (`resolveBftConfig`: the fixed set,
 * or the staking contract's). The genesis hash is left unpinned (zeros): the shards' geneses
 * would have to hold each other's hashes.
 */
async function placeBridges(dir: string, file: ShardedDevnetFile): Promise<void> {
  const geneses = file.shards.map((s) => {
    const path = join(dir, s.dir, 'genesis.json')
    return { path, genesis: JSON.parse(readFileSync(path, 'utf8')) as { alloc: Record<string, unknown> } }
  })
  const peers: PeerShard[] = []
  for (const [k, s] of file.shards.entries()) {
    const bft = await resolveBftConfig(geneses[k]?.genesis)
    peers.push({
      shard: s.id,
      chainId: BigInt(s.chainId),
      genesisHash: new Uint8Array(32),
      validators: bft.validators,
      ...(bft.signatureScheme ? { scheme: bft.signatureScheme } : {}),
    })
  }
  for (const [k, g] of geneses.entries()) {
    Object.assign(g.genesis.alloc, bridgeGenesisAlloc(peers.filter((p) => p.shard !== k)))
    writeFileSync(g.path, `${JSON.stringify(g.genesis, null, 2)}\n`)
  }
}

/** `devnet init --shards`: checks the flags, writes the network, says how to run it. */
export async function initShardedDevnetCommand(
  opts: ShardedDevnetOptions & { engine?: string; validators: number | undefined },
): Promise<void> {
  if (opts.engine !== undefined && opts.engine !== 'bft') {
    throw devnetError('devnet init --shards: shards are BFT chains (--engine bft)')
  }
  if (opts.validators === undefined) {
    throw devnetError(
      'devnet init --shards: --validators <n> (per shard) is required',
      'e.g. cairn devnet init --shards 4 --validators 1 --dir ./shards',
    )
  }
  const file = await initShardedDevnet(opts)
  const v = opts.validators
  process.stdout.write(
    `${file.shards.length} shards of ${v} validators in ${resolve(opts.dir)} (chain ids ${SHARD_BASE_CHAIN_ID}..${SHARD_BASE_CHAIN_ID + file.shards.length - 1}); ` +
      `shard k's nodes on 127.0.0.1:${file.port + 1}+k·${v}..; the gateway on http://127.0.0.1:${file.port}\n` +
      `run them all (${file.shards.length * v + 1} processes): cairn devnet start --dir ${opts.dir}\n`,
  )
}

/** Whether `dir` holds a sharded devnet (`gateway.json`). */
export function isShardedDevnet(dir: string): boolean {
  return existsSync(join(dir, 'gateway.json'))
}

function readDevnetFile(dir: string): ShardedDevnetFile {
  let file: ShardedDevnetFile
  try {
    file = JSON.parse(readFileSync(join(dir, 'gateway.json'), 'utf8')) as ShardedDevnetFile
  } catch (err) {
    throw new CairnError(NodeErrorCode.DEVNET_DIR, `${dir}/gateway.json: ${errorMessage(err)}`, { fault: 'caller' })
  }
  if (!Array.isArray(file.shards) || file.shards.length === 0 || !Number.isInteger(file.port)) {
    throw new CairnError(NodeErrorCode.DEVNET_DIR, `${dir}/gateway.json names no shards or no port`, {
      fault: 'caller',
      hint: 'write it again: cairn devnet init --shards S --validators V --dir DIR',
    })
  }
  return file
}

/** Whether the JSON-RPC at `url` answers eth_chainId. */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
      signal: AbortSignal.timeout(2_000),
    })
    return res.ok
  } catch {
    return false
  }
}

/**
 * Runs every node of every shard, then the gateway once each shard's first node answers, until a
 * signal or until every process has exited (a node or the gateway that dies alone leaves the rest).
 */
export async function runShardedDevnet(dir: string): Promise<void> {
  const file = readDevnetFile(dir)
  const script = process.argv[1] as string
  const children: { label: string; child: ChildProcess; exited: Promise<void> }[] = []
  let stopping = false
  const run = (label: string, args: string[]): void => {
    // Each in a process group of its own, as `devnet start` runs a devnet's nodes (devnet.ts).
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
      detached: true,
    })
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => out.write(`[${label}] ${line}\n`))
    }
    const exited = new Promise<void>((r) =>
      child.once('exit', (code, signal) => {
        process.stdout.write(`[devnet] ${label} exited (${signal ?? `code ${code}`})\n`)
        r()
      }),
    )
    children.push({ label, child, exited })
    process.stdout.write(`[devnet] ${label} pid ${child.pid} ${args.join(' ')}\n`)
  }
  for (const s of file.shards) {
    const configs = nodeConfigs(join(dir, s.dir))
    if (configs.length === 0) {
      throw new CairnError(NodeErrorCode.DEVNET_DIR, `${join(dir, s.dir)} holds no devnet`, { fault: 'caller' })
    }
    for (const [k, config] of configs.entries()) run(`shard-${s.id}/node-${k + 1}`, ['start', '--config', config])
  }
  const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null
  const stopAll = () => {
    stopping = true
    for (const { child } of children) if (alive(child)) child.kill('SIGTERM')
  }
  const killLeft = () => {
    for (const { child } of children) if (alive(child)) child.kill('SIGKILL')
  }
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const sig of signals) process.on(sig, stopAll)
  process.once('exit', killLeft)
  // The gateway reads every shard's chain id when it starts: it starts once all answer, here (it
  // holds no state: a process of its own would only add one more Node.js to load).
  let relayer: Relayer | undefined
  const gateway = (async () => {
    for (;;) {
      if (stopping) return undefined
      if ((await Promise.all(file.shards.map((s) => answers(s.url)))).every(Boolean)) break
      await new Promise((r) => setTimeout(r, 500))
    }
    if (stopping) return undefined
    const logger = createLogger({ level: 'warn', format: 'auto' })
    const metrics = createMetricsRegistry({ version: VERSION, commit: 'unknown' })
    const g = new Gateway(
      { shards: file.shards.map((s) => ({ id: s.id, url: s.url })), host: file.host ?? '127.0.0.1', port: file.port },
      { logger, metrics },
    )
    try {
      const url = await g.start()
      process.stdout.write(`[devnet] gateway on ${url} for ${file.shards.length} shards (cairn_getShardInfo)\n`)
      // A relayer paid by the dev accounts (funded on every shard): no state, so beside the gateway.
      if (file.shards.length > 1) {
        const keys = devAccounts(DEFAULT_DEV_MNEMONIC, 10).map((a) => bytesToHex(a.privateKey))
        relayer = new Relayer(
          { shards: file.shards.map((s) => ({ id: s.id, url: s.url })), keys },
          { logger, metrics: createRelayerMetrics(metrics) },
        )
        await relayer.connect()
        relayer.start()
        process.stdout.write('[devnet] relayer carrying cross-shard messages between every pair of shards\n')
      }
      return g
    } catch (err) {
      process.stderr.write(`[devnet] the gateway did not start: ${errorMessage(err)}\n`)
      return undefined
    }
  })()
  // A node that ends on its own leaves the others running; the devnet ends with the last node, and
  // the gateway (useless without shards) is stopped then.
  await Promise.all(children.map((n) => n.exited))
  stopping = true
  await relayer?.stop()
  await (await gateway)?.stop()
  for (const sig of signals) process.off(sig, stopAll)
  process.off('exit', killLeft)
}
