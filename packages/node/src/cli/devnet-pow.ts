/**
 * `cairn devnet init --engine pow --miners N --dir D`: a proof-of-work network of N mining nodes on
 * this machine. For node i (1..N): the datadir `D/node-i` with its identity key, and `D/node-i.toml`
 * (JSON-RPC on 127.0.0.1:P+i−1, p2p on 127.0.0.1:Q+i−1, every other node as a bootnode, mining on
 * `--threads` threads for a coinbase of its own: dev account i−1); and `D/genesis.json`: a
 * proof-of-work chain (London's rules at block 0, `config.cairn.pow` with the chain parameters:
 * docs/consensus/pow.md) with the dev mnemonic's accounts funded. `cairn devnet start --dir D` runs
 * them as it runs a BFT devnet. With `--transition-height H` (PoW → PoS) every node is a BFT
 * validator too (`keys/validator.key`, power 1 in `config.cairn.bft`) and the genesis merges at H:
 * mined to H − 1, BFT from H.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parsePowConfig, powGenesis } from '@cairn/consensus/pow'
import { loadOrCreateKey } from '@cairn/consensus/validator-keys'
import { privateKeyToAddress } from '@cairn/crypto'
import { peerIdOfSecp256k1 } from '@cairn/p2p'
import { bytesToHex } from '@cairn/utils'
import { DEFAULT_DEV_MNEMONIC, devAccounts } from '../dev-accounts.ts'
import { devnetTomlHead } from './devnet-toml.ts'

export interface PowDevnetOptions {
  miners: number
  dir: string
  basePort: number
  p2pBasePort: number
  /** Mining threads per node (default 1). */
  threads?: number
  /** Chain parameters (`config.cairn.pow`); unset fields take the devnet's defaults. */
  pow?: {
    spacing?: number
    halfLife?: number
    powLimit?: string
    genesisBits?: string
    memoryKiB?: number
  }
  gasLimit?: bigint
  /** The genesis timestamp (seconds; default now). */
  timestamp?: number
  /** PoW → PoS: the first BFT block; every node is a validator of the genesis set. */
  transitionHeight?: number
}

/** The devnet's chain parameters: 4 s blocks, a half-life of 288 blocks, the chain's seal and targets. */
export const POW_DEVNET_DEFAULTS = { spacing: 4, halfLife: 1152 } as const

/** What the namespaces a devnet node serves are (as a BFT devnet's, with miner methods in eth). */

/** Writes the devnet; returns the node config files. */
export function initPowDevnet(opts: PowDevnetOptions): string[] {
  const dir = resolve(opts.dir)
  const p = opts.pow ?? {}
  const params = parsePowConfig({
    config: {
      cairn: {
        pow: {
          spacing: p.spacing ?? POW_DEVNET_DEFAULTS.spacing,
          halfLife: p.halfLife ?? 288 * (p.spacing ?? POW_DEVNET_DEFAULTS.spacing),
          ...(p.powLimit ? { powLimit: p.powLimit } : {}),
          ...(p.genesisBits ? { genesisBits: p.genesisBits } : {}),
          ...(p.memoryKiB ? { seal: { memoryKiB: p.memoryKiB, iterations: 1 } } : {}),
          ...(opts.transitionHeight !== undefined
            ? { transition: { height: opts.transitionHeight, engine: 'bft' } }
            : {}),
        },
      },
    },
  })
  mkdirSync(dir, { recursive: true })
  const accounts = devAccounts(DEFAULT_DEV_MNEMONIC, 10)
  const nodes = Array.from({ length: opts.miners }, (_, k) => {
    const i = k + 1
    const datadir = join(dir, `node-${i}`)
    const identity = loadOrCreateKey(join(datadir, 'keys', 'node.key'), 'node identity key')
    const validator =
      opts.transitionHeight !== undefined
        ? loadOrCreateKey(join(datadir, 'keys', 'validator.key'), 'validator key')
        : undefined
    const p2pPort = opts.p2pBasePort + k
    return {
      i,
      datadir,
      httpPort: opts.basePort + k,
      p2pPort,
      coinbase: (accounts[k % accounts.length] as { address: string }).address,
      validator: validator ? bytesToHex(privateKeyToAddress(validator.privateKey)) : undefined,
      enode: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerIdOfSecp256k1(identity.privateKey)}`,
    }
  })
  const genesis = powGenesis({
    chainId: 1337,
    params,
    alloc: Object.fromEntries(accounts.map((a) => [a.address, 10_000n * 10n ** 18n])),
    timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
    ...(opts.gasLimit !== undefined ? { gasLimit: opts.gasLimit } : {}),
  })
  if (opts.transitionHeight !== undefined) {
    const config = genesis.config as Record<string, unknown> & { cairn: Record<string, unknown> }
    // The chain's ruleset merges at H (difficulty 0, no block reward, BFT's extra data).
    config.mergeForkBlock = opts.transitionHeight
    config.cairn.bft = { validators: nodes.map((n) => ({ address: n.validator, power: 1 })), blockTimeMs: 1000 }
  }
  const genesisPath = join(dir, 'genesis.json')
  writeFileSync(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`)
  return nodes.map((n) => {
    const bootnodes = nodes.filter((m) => m.i !== n.i).map((m) => JSON.stringify(m.enode))
    const toml = [
      ...devnetTomlHead({
        what: 'miner',
        index: n.i,
        count: nodes.length,
        dir,
        engine: 'pow',
        genesisPath,
        datadir: n.datadir,
        httpPort: n.httpPort,
      }),
      '[miner]',
      'enabled = true',
      `threads = ${opts.threads ?? 1}`,
      `coinbase = ${JSON.stringify(n.coinbase)}`,
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
    return path
  })
}
