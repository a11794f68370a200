/**
 * `cairn devnet init` and `cairn devnet start`: a BFT network of N validators on this machine.
 *
 * `init --validators N --dir D [--base-port P] [--p2p-base-port Q]` writes, for node i (1..N):
 * the datadir `D/node-i` with its identity and validator keys (`keys/node.key`,
 * `keys/validator.key`, 0600), and `D/node-i.toml` (JSON-RPC on 127.0.0.1:P+i−1, p2p on
 * 127.0.0.1:Q+i−1, every other node as a bootnode); and `D/genesis.json`: the validators with
 * power 1 in `config.cairn.bft`, and the dev mnemonic's accounts funded. `start --dir D` runs
 * `cairn start --config D/node-i.toml` for each, every output line prefixed `[node-i]`, and stops
 * them all on Ctrl-C (SIGINT or SIGTERM); a node that dies alone (kill -9) leaves the others running.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { devGenesis } from '@cairn/chain'
import { privateKeyToAddress } from '@cairn/crypto'
import { peerIdOfSecp256k1 } from '@cairn/p2p'
import { bytesToHex, CairnError } from '@cairn/utils'
import { type Command, InvalidArgumentError } from 'commander'
import { DEFAULT_DEV_MNEMONIC, devAccounts } from '../../dev-accounts.ts'
import { NodeErrorCode } from '../../errors.ts'
import { loadOrCreateKey } from '../../keys/key-file.ts'

function count(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) throw new InvalidArgumentError('expected 1 to 64')
  return Number(v)
}

function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65_000) throw new InvalidArgumentError('expected a port')
  return Number(v)
}

/** What a devnet node's RPC serves (its config's `rpc.api`): a local test network's, admin included. */
const DEVNET_NAMESPACES = ['eth', 'net', 'web3', 'cairn', 'txpool', 'debug', 'trace', 'ots', 'admin'] as const

/** The node config files of a devnet directory, in order. */
function nodeConfigs(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => /^node-\d+\.toml$/.test(f))
    .sort((a, b) => Number(a.slice(5, -5)) - Number(b.slice(5, -5)))
    .map((f) => join(dir, f))
}

export function initDevnet(opts: { validators: number; dir: string; basePort: number; p2pBasePort: number }): string[] {
  const dir = resolve(opts.dir)
  if (nodeConfigs(dir).length > 0) {
    throw new CairnError(NodeErrorCode.DEVNET_DIR, `${dir} already holds a devnet`, {
      fault: 'caller',
      hint: 'use another --dir, or remove it to start over',
    })
  }
  mkdirSync(dir, { recursive: true })
  const nodes = Array.from({ length: opts.validators }, (_, k) => {
    const i = k + 1
    const datadir = join(dir, `node-${i}`)
    const keys = join(datadir, 'keys')
    const identity = loadOrCreateKey(join(keys, 'node.key'), 'node identity key')
    const validator = loadOrCreateKey(join(keys, 'validator.key'), 'validator key')
    const p2pPort = opts.p2pBasePort + k
    return {
      i,
      datadir,
      httpPort: opts.basePort + k,
      p2pPort,
      address: bytesToHex(privateKeyToAddress(validator.privateKey)),
      enode: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerIdOfSecp256k1(identity.privateKey)}`,
    }
  })
  const genesis = devGenesis({
    chainId: 1337n,
    accounts: devAccounts(DEFAULT_DEV_MNEMONIC, 10).map((a) => a.address),
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
  }) as { config: Record<string, unknown> }
  genesis.config.cairn = {
    bft: { validators: nodes.map((n) => ({ address: n.address, power: 1 })), blockTimeMs: 1000 },
  }
  const genesisPath = join(dir, 'genesis.json')
  writeFileSync(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`)
  const written: string[] = []
  for (const n of nodes) {
    const bootnodes = nodes.filter((m) => m.i !== n.i).map((m) => JSON.stringify(m.enode))
    const toml = [
      `# devnet node ${n.i} of ${nodes.length}: cairn start --config ${join(dir, `node-${n.i}.toml`)}`,
      `engine = "bft"`,
      `genesis = ${JSON.stringify(genesisPath)}`,
      `datadir = ${JSON.stringify(n.datadir)}`,
      '',
      '[http]',
      `addr = "127.0.0.1"`,
      `port = ${n.httpPort}`,
      '',
      // A test network on loopback: the namespaces a developer inspects it with (peers, the pool,
      // traces), said here rather than left to the production default (eth, net, web3, cairn).
      '[rpc]',
      `api = [${DEVNET_NAMESPACES.map((n) => JSON.stringify(n)).join(', ')}]`,
      '',
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
    .requiredOption('--validators <n>', 'how many validators', count)
    .requiredOption('--dir <dir>', 'the directory to write the devnet into')
    .option('--base-port <port>', 'JSON-RPC port of node 1 (node i serves base + i - 1)', port, 8545)
    .option('--p2p-base-port <port>', 'p2p port of node 1 (node i listens on base + i - 1)', port, 30303)
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn devnet init --validators 4 --dir ./devnet\n  $ cairn devnet start --dir ./devnet\n',
    )
    .action((opts: { validators: number; dir: string; basePort: number; p2pBasePort: number }) => {
      const files = initDevnet(opts)
      process.stdout.write(
        `${files.length} validators in ${resolve(opts.dir)}; JSON-RPC on 127.0.0.1:${opts.basePort}..${opts.basePort + files.length - 1}\n` +
          `run them all: cairn devnet start --dir ${opts.dir}\n`,
      )
    })
  devnet
    .command('start')
    .description('run every node of a devnet, with prefixed logs; Ctrl-C stops them all')
    .requiredOption('--dir <dir>', 'the directory `cairn devnet init` wrote')
    .action(async (opts: { dir: string }) => {
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

/** Runs one `cairn start` per config until a signal or a node's exit, then stops them all. */
async function runDevnet(configs: string[]): Promise<void> {
  const script = process.argv[1] as string
  const children = configs.map((config, k) => {
    const child = spawn(process.execPath, [...process.execArgv, script, 'start', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
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
  let stopping = false
  const stopAll = () => {
    if (stopping) return
    stopping = true
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
  }
  process.once('SIGINT', stopAll)
  process.once('SIGTERM', stopAll)
  // A node that ends on its own (a crash, kill -9) leaves the others running: the network goes on
  // while more than 2/3 of the power runs. The devnet ends with the last node.
  await Promise.all(exited)
  process.off('SIGINT', stopAll)
  process.off('SIGTERM', stopAll)
}
