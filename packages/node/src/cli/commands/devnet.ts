/**
 * `cairn devnet init` and `cairn devnet start`: a BFT network of N validators on this machine.
 *
 * `init --validators N --dir D [--base-port P] [--p2p-base-port Q]` writes, for node i (1..N):
 * the datadir `D/node-i` with its identity and validator keys (`keys/node.key`,
 * `keys/validator.key`, 0600), and `D/node-i.toml` (JSON-RPC on 127.0.0.1:P+i−1, p2p on
 * 127.0.0.1:Q+i−1, every other node as a bootnode); and `D/genesis.json`: the validators bonded
 * in the staking contract (1,000 coins each: `--profile`, `--param`; `--no-staking` writes a fixed
 * set with power 1 in `config.cairn.bft` instead), and the dev mnemonic's accounts funded. `start --dir D` runs
 * `cairn start --config D/node-i.toml` for each, every output line prefixed `[node-i]`, and stops
 * them all on Ctrl-C (SIGINT, SIGTERM or SIGHUP: one SIGTERM to each node, which stops cleanly; the nodes
 * run in process groups of their own, so a terminal's Ctrl-C is not delivered to them twice); a node
 * that dies alone (kill -9) leaves the others running.
 *
 * `init --signature-scheme hybrid` makes a chain whose validators sign secp256k1 ‖ ML-DSA-65
 * (docs/consensus/post-quantum.md): each node also gets `keys/validator.mldsa.seed` (32 bytes, 0600)
 * and the genesis registers the ML-DSA public keys: in the staking contract (`Staking.initializePq`)
 * by default, in `config.cairn.bft.validators` with `--no-staking`. `init --signature-scheme
 * ml-dsa-65` does the same for ML-DSA-65 alone: each validator signs with the seed's key only and
 * the genesis knows it by `pqAddress` of that key (its consensus address in the staking contract,
 * and its operator there; `keys/validator.key` is still written, and signs nothing).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { devGenesis } from '@cairn/chain'
import { pqAddress } from '@cairn/consensus/pq'
import { addStakingGenesis, type StakingProfile, stakingParamsWith } from '@cairn/consensus/staking'
import { loadOrCreateKey, loadOrCreatePqSeed, pqSeedPath } from '@cairn/consensus/validator-keys'
import { mlDsa65Keygen, privateKeyToAddress } from '@cairn/crypto'
import { peerIdOfSecp256k1 } from '@cairn/p2p'
import { bytesToHex, CairnError } from '@cairn/utils'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { DEFAULT_DEV_MNEMONIC, devAccounts } from '../../dev-accounts.ts'
import { NodeErrorCode } from '../../errors.ts'
import { initGhostdagDevnet } from '../devnet-ghostdag.ts'
import { initPowDevnet } from '../devnet-pow.ts'
import { initShardedDevnetCommand, isShardedDevnet, runShardedDevnet } from '../devnet-shards.ts'
import { devnetTomlHead } from '../devnet-toml.ts'

function count(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) throw new InvalidArgumentError('expected 1 to 64')
  return Number(v)
}

function gas(v: string): bigint {
  if (!/^\d+$/.test(v) || BigInt(v) < 5_000_000n)
    throw new InvalidArgumentError('expected a gas amount of at least 5000000')
  return BigInt(v)
}

function blockTime(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 3_600_000)
    throw new InvalidArgumentError('expected milliseconds, 1 to 3600000')
  return Number(v)
}

function profile(v: string): StakingProfile {
  if (v !== 'devnet' && v !== 'production') throw new InvalidArgumentError('expected devnet or production')
  return v
}

function signatureScheme(v: string): DevnetSignatureScheme {
  if (v !== 'secp256k1' && v !== 'hybrid' && v !== 'ml-dsa-65') {
    throw new InvalidArgumentError('expected secp256k1, hybrid or ml-dsa-65')
  }
  return v
}

/** The consensus signature schemes a devnet can be made with. */
export type DevnetSignatureScheme = 'secp256k1' | 'hybrid' | 'ml-dsa-65'

function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65_000) throw new InvalidArgumentError('expected a port')
  return Number(v)
}

/** What a devnet node's RPC serves (its config's `rpc.api`): a local test network's, admin included. */

/** The node config files of a devnet directory, in order. */
export function nodeConfigs(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => /^node-\d+\.toml$/.test(f))
    .sort((a, b) => Number(a.slice(5, -5)) - Number(b.slice(5, -5)))
    .map((f) => join(dir, f))
}

export interface DevnetInitOptions {
  validators: number
  dir: string
  basePort: number
  p2pBasePort: number
  /** False: a fixed validator set in `config.cairn.bft.validators` (no staking). Default true. */
  staking?: boolean
  profile?: StakingProfile
  /** `staking.<name>=<value>` / `governance.<name>=<value>` overrides of the profile. */
  param?: string[]
  /** The genesis block gas limit (and governance's target). Default 30,000,000. */
  gasLimit?: bigint
  /** The block time (ms). Default 1000. */
  blockTimeMs?: number
  /**
   * `hybrid`: secp256k1 ‖ ML-DSA-65 votes; `ml-dsa-65`: ML-DSA-65 alone, validators known by
   * `pqAddress`. Either writes the ML-DSA seeds and registers the keys (staking contract or fixed
   * set). Default secp256k1.
   */
  signatureScheme?: DevnetSignatureScheme
  /** The chain id (default 1337); each shard of a sharded devnet has its own (../devnet-shards.ts). */
  chainId?: bigint
  /** `config.cairn.shard`: this devnet is shard `index` of `count` (../devnet-shards.ts). */
  shard?: { index: number; count: number }
}

export async function initDevnet(opts: DevnetInitOptions): Promise<string[]> {
  const dir = resolve(opts.dir)
  if (nodeConfigs(dir).length > 0) {
    throw new CairnError(NodeErrorCode.DEVNET_DIR, `${dir} already holds a devnet`, {
      fault: 'caller',
      hint: 'use another --dir, or remove it to start over',
    })
  }
  const scheme = opts.signatureScheme ?? 'secp256k1'
  // Hybrid and ml-dsa-65 stake as secp256k1 does: the staking contract holds the ML-DSA keys.
  const pq = scheme !== 'secp256k1'
  const staking = opts.staking !== false
  // Bad parameters are refused before anything is written (no keys left behind).
  if (staking) stakingParamsWith(opts.profile ?? 'devnet', opts.param ?? [])
  mkdirSync(dir, { recursive: true })
  const nodes = Array.from({ length: opts.validators }, (_, k) => {
    const i = k + 1
    const datadir = join(dir, `node-${i}`)
    const keys = join(datadir, 'keys')
    const identity = loadOrCreateKey(join(keys, 'node.key'), 'node identity key')
    const validator = loadOrCreateKey(join(keys, 'validator.key'), 'validator key')
    const pqPublicKey = pq ? mlDsa65Keygen(loadOrCreatePqSeed(pqSeedPath(keys))).publicKey : null
    const p2pPort = opts.p2pBasePort + k
    return {
      i,
      datadir,
      httpPort: opts.basePort + k,
      p2pPort,
      // Under ml-dsa-65 a validator is known by its ML-DSA key's address, not its secp256k1 key's.
      address: bytesToHex(
        scheme === 'ml-dsa-65' && pqPublicKey !== null
          ? pqAddress(pqPublicKey)
          : privateKeyToAddress(validator.privateKey),
      ),
      pqPublicKey: pqPublicKey === null ? null : bytesToHex(pqPublicKey),
      // The account that runs it in the staking contract (its secp256k1 key signs transactions).
      operator: bytesToHex(privateKeyToAddress(validator.privateKey)),
      enode: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerIdOfSecp256k1(identity.privateKey)}`,
    }
  })
  const chainId = opts.chainId ?? 1337n
  const genesis = devGenesis({
    chainId,
    accounts: devAccounts(DEFAULT_DEV_MNEMONIC, 10).map((a) => a.address),
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
  }) as { config: Record<string, unknown>; alloc: Record<string, unknown>; gasLimit?: string }
  if (opts.gasLimit !== undefined) genesis.gasLimit = `0x${opts.gasLimit.toString(16)}`
  const blockTimeMs = opts.blockTimeMs ?? 1000
  if (!staking) {
    genesis.config.cairn = {
      bft: {
        ...(pq ? { signatureScheme: scheme } : {}),
        validators: nodes.map((n) => ({
          address: n.address,
          power: 1,
          ...(n.pqPublicKey !== null ? { pqPublicKey: n.pqPublicKey } : {}),
        })),
        blockTimeMs,
      },
    }
  } else {
    // Proof of stake: each validator bonded with 1,000 coins in the staking contract (power 1,000).
    await addStakingGenesis(genesis, {
      chainId,
      validators: nodes.map((n) => n.address as `0x${string}`),
      operators: nodes.map((n) => n.operator as `0x${string}`),
      blockTimeMs,
      ...(pq ? { signatureScheme: scheme, pqPublicKeys: nodes.map((n) => n.pqPublicKey as `0x${string}`) } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.param ? { params: opts.param } : {}),
    })
  }
  if (opts.shard) genesis.config.cairn = { ...(genesis.config.cairn as object), shard: opts.shard }
  const genesisPath = join(dir, 'genesis.json')
  writeFileSync(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`)
  const written: string[] = []
  for (const n of nodes) {
    const bootnodes = nodes.filter((m) => m.i !== n.i).map((m) => JSON.stringify(m.enode))
    const toml = [
      ...devnetTomlHead({
        what: 'node',
        index: n.i,
        count: nodes.length,
        dir,
        engine: 'bft',
        genesisPath,
        datadir: n.datadir,
        httpPort: n.httpPort,
      }),
      '[keys]',
      'validator = true',
      '',
      '[p2p]',
      'enabled = true',
      `addr = "127.0.0.1"`,
      `port = ${n.p2pPort}`,
      'dht = false',
      `bootnodes = [${bootnodes.join(', ')}]`,
      '',
    ].join('\n')
    const path = join(dir, `node-${n.i}.toml`)
    writeFileSync(path, toml)
    written.push(path)
  }
  return written
}

/** Registers `cairn devnet`. */
export function registerDevnet(program: Command): void {
  const devnet = program.command('devnet').description('a local BFT network of several validators on this machine')
  devnet
    .command('init')
    .description('write keys, a genesis and one config per validator into a directory')
    .option('--validators <n>', 'how many validators (engine bft; with --shards, per shard)', count)
    .option(
      '--shards <n>',
      'engine bft: that many shards, each a devnet of its own, and a gateway (docs/consensus/sharding.md)',
      count,
    )
    .addOption(
      new Option('--engine <engine>', 'the consensus engine').choices(['bft', 'pow', 'ghostdag']).default('bft'),
    )
    .option('--miners <n>', 'how many mining nodes (engine pow or ghostdag)', count)
    .option('--bps <n>', 'engine ghostdag: target blocks a second, all miners together (default 2)', Number)
    .option('--threads <n>', 'mining threads per node (engine pow)', count, 1)
    .option('--spacing <s>', 'engine pow: target seconds between blocks (default 4)', count)
    .option('--genesis-bits <bits>', 'engine pow: the genesis target, compact (default 0x1f100000)')
    .option('--pow-limit <bits>', 'engine pow: the easiest target, compact (default 0x2000ffff)')
    .option('--seal-memory-kib <kib>', 'engine pow: Argon2id memory per attempt (default 1024)', Number)
    .option(
      '--transition-height <h>',
      'engine pow: PoW → PoS at block h (mined to h − 1, BFT from h; every node a validator)',
      Number,
    )
    .requiredOption('--dir <dir>', 'the directory to write the devnet into')
    .option('--base-port <port>', 'JSON-RPC port of node 1 (node i serves base + i - 1)', port, 8545)
    .option('--p2p-base-port <port>', 'p2p port of node 1 (node i listens on base + i - 1)', port, 30303)
    // A bigint default needs its text for the help (commander would JSON.stringify it: a throw).
    .addOption(
      new Option('--gas-limit <gas>', 'the block gas limit (with staking, also governance’s target)')
        .argParser(gas)
        .default(30_000_000n, '30000000'),
    )
    .option('--block-time-ms <ms>', 'the block time', blockTime, 1000)
    .option('--no-staking', 'a fixed validator set in the genesis instead of proof of stake')
    .option(
      '--signature-scheme <scheme>',
      'consensus signatures: secp256k1, hybrid (secp256k1 ‖ ML-DSA-65) or ml-dsa-65 (alone); the last two write keys/validator.mldsa.seed and register the ML-DSA keys in the genesis',
      signatureScheme,
      'secp256k1',
    )
    .option(
      '--profile <profile>',
      'staking and governance parameters: devnet (minutes) or production (days)',
      profile,
      'devnet',
    )
    .option(
      '--param <name=value>',
      'override one parameter, e.g. staking.signedBlocksWindow=20 (repeatable; docs/consensus/staking.md)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn devnet init --validators 4 --dir ./devnet\n  $ cairn devnet start --dir ./devnet\n' +
        '\nFour shards of one validator each, and a gateway on the base port (docs/consensus/sharding.md):\n' +
        '  $ cairn devnet init --shards 4 --validators 1 --dir ./shards\n  $ cairn devnet start --dir ./shards\n',
    )
    .action(async (opts: DevnetInitOptions & PowDevnetFlags & { shards?: number }) => {
      if (opts.engine === 'pow') return initPowDevnetCommand(opts)
      if (opts.engine === 'ghostdag') return initGhostdagDevnetCommand(opts)
      if (opts.validators === undefined) {
        throw new CairnError(NodeErrorCode.DEVNET_OPTIONS, 'devnet init: --validators <n> is required (engine bft)', {
          fault: 'caller',
          hint: 'e.g. cairn devnet init --validators 4 --dir ./devnet; or --engine pow --miners 3',
        })
      }
      if (opts.shards !== undefined)
        return initShardedDevnetCommand({ ...opts, validators: opts.validators, shards: opts.shards })
      const files = await initDevnet(opts)
      process.stdout.write(
        `${files.length} validators in ${resolve(opts.dir)}; JSON-RPC on 127.0.0.1:${opts.basePort}..${opts.basePort + files.length - 1}\n` +
          (opts.signatureScheme === 'hybrid'
            ? 'votes signed secp256k1 ‖ ML-DSA-65 (seeds in node-N/keys/validator.mldsa.seed)\n'
            : opts.signatureScheme === 'ml-dsa-65'
              ? 'votes signed ML-DSA-65 alone (seeds in node-N/keys/validator.mldsa.seed; validators known by their ML-DSA keys’ addresses)\n'
              : '') +
          `run them all: cairn devnet start --dir ${opts.dir}\n`,
      )
    })
  devnet
    .command('start')
    .description('run every node of a devnet, with prefixed logs; Ctrl-C stops them all')
    .requiredOption('--dir <dir>', 'the directory `cairn devnet init` wrote')
    .action(async (opts: { dir: string }) => {
      if (isShardedDevnet(resolve(opts.dir))) return runShardedDevnet(resolve(opts.dir))
      const configs = nodeConfigs(resolve(opts.dir))
      if (configs.length === 0) {
        throw new CairnError(NodeErrorCode.DEVNET_DIR, `${resolve(opts.dir)} holds no devnet`, {
          fault: 'caller',
          hint: 'run `cairn devnet init --validators 4 --dir DIR` first',
        })
      }
      await runDevnet(configs)
    })
}

/** The flags of `devnet init --engine pow` (../devnet-pow.ts writes the network). */
interface PowDevnetFlags {
  engine?: 'bft' | 'pow' | 'ghostdag'
  bps?: number
  miners?: number
  threads?: number
  spacing?: number
  genesisBits?: string
  powLimit?: string
  sealMemoryKib?: number
  transitionHeight?: number
}

function initPowDevnetCommand(opts: DevnetInitOptions & PowDevnetFlags): void {
  if (nodeConfigs(resolve(opts.dir)).length > 0) {
    throw new CairnError(NodeErrorCode.DEVNET_DIR, `${resolve(opts.dir)} already holds a devnet`, {
      fault: 'caller',
      hint: 'use another --dir, or remove it to start over',
    })
  }
  const files = initPowDevnet({
    miners: opts.miners ?? 3,
    dir: opts.dir,
    basePort: opts.basePort,
    p2pBasePort: opts.p2pBasePort,
    threads: opts.threads ?? 1,
    gasLimit: opts.gasLimit,
    ...(opts.transitionHeight !== undefined ? { transitionHeight: opts.transitionHeight } : {}),
    pow: {
      ...(opts.spacing !== undefined ? { spacing: opts.spacing } : {}),
      ...(opts.genesisBits !== undefined ? { genesisBits: opts.genesisBits } : {}),
      ...(opts.powLimit !== undefined ? { powLimit: opts.powLimit } : {}),
      ...(opts.sealMemoryKib !== undefined ? { memoryKiB: opts.sealMemoryKib } : {}),
    },
  })
  process.stdout.write(
    `${files.length} mining nodes in ${resolve(opts.dir)}; JSON-RPC on 127.0.0.1:${opts.basePort}..${opts.basePort + files.length - 1}\n` +
      `run them all: cairn devnet start --dir ${opts.dir}\n`,
  )
}

function initGhostdagDevnetCommand(opts: DevnetInitOptions & PowDevnetFlags): void {
  if (nodeConfigs(resolve(opts.dir)).length > 0) {
    throw new CairnError(NodeErrorCode.DEVNET_DIR, `${resolve(opts.dir)} already holds a devnet`, {
      fault: 'caller',
      hint: 'use another --dir, or remove it to start over',
    })
  }
  const bps = opts.bps ?? 2
  if (!(bps > 0 && bps <= 100)) {
    throw new CairnError(NodeErrorCode.DEVNET_OPTIONS, `devnet init: --bps must be in (0, 100], got ${opts.bps}`, {
      fault: 'caller',
    })
  }
  const files = initGhostdagDevnet({
    miners: opts.miners ?? 3,
    bps,
    dir: opts.dir,
    basePort: opts.basePort,
    p2pBasePort: opts.p2pBasePort,
    threads: opts.threads ?? 1,
    gasLimit: opts.gasLimit,
    ...(opts.genesisBits !== undefined ? { genesisBits: opts.genesisBits } : {}),
    ...(opts.powLimit !== undefined ? { powLimit: opts.powLimit } : {}),
    ...(opts.sealMemoryKib !== undefined ? { memoryKiB: opts.sealMemoryKib } : {}),
  })
  process.stdout.write(
    `${files.length} GhostDAG mining nodes in ${resolve(opts.dir)} (${bps} blocks/s); JSON-RPC on 127.0.0.1:${opts.basePort}..${opts.basePort + files.length - 1}\n` +
      `run them all: cairn devnet start --dir ${opts.dir}\n`,
  )
}

/** Runs one `cairn start` per config until a signal or a node's exit, then stops them all. */
async function runDevnet(configs: string[]): Promise<void> {
  const script = process.argv[1] as string
  const children = configs.map((config, k) => {
    // Each node in a process group of its own: a terminal's Ctrl-C (SIGINT to the foreground group)
    // reaches this supervisor only, which forwards one SIGTERM. In the supervisor's group, a node
    // would get the terminal's SIGINT and then the forwarded SIGTERM: "second signal", exit 130.
    const child = spawn(process.execPath, [...process.execArgv, script, 'start', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
      detached: true,
    })
    const prefix = `[node-${k + 1}] `
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => out.write(`${prefix}${line}\n`))
    }
    return child
  })
  for (const [k, c] of children.entries()) {
    process.stdout.write(`[devnet] node-${k + 1} pid ${c.pid} config ${configs[k]}\n`)
  }
  const exited = children.map(
    (c, k) =>
      new Promise<void>((r) =>
        c.once('exit', (code, signal) => {
          process.stdout.write(`[devnet] node-${k + 1} exited (${signal ?? `code ${code}`})\n`)
          r()
        }),
      ),
  )
  // The first signal: one SIGTERM to each node (a clean stop). A second one (Ctrl-C again) is
  // forwarded too: a node exits at once on its second signal, as `cairn start` does.
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
  }
  // Outside the terminal's process group, the nodes would outlive a supervisor that dies without
  // stopping them: an exit of this process takes any node still running with it.
  const killLeft = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  }
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const sig of signals) process.on(sig, stopAll)
  process.once('exit', killLeft)
  // A node that ends on its own (a crash, kill -9) leaves the others running: the network goes on
  // while more than 2/3 of the power runs. The devnet ends with the last node.
  await Promise.all(exited)
  for (const sig of signals) process.off(sig, stopAll)
  process.off('exit', killLeft)
}
