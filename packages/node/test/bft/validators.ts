// Four (or N) BFT validators in this process, over libp2p on loopback: the genesis with their
// keys, and one started node per validator (the libp2p integration test and the bench's
// in-process mode).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { devGenesis } from '@cairn/chain'
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'

/** Validator `i`'s key, derived from a seed so each suite has its own. */
export const validatorKey = (seed: string, i: number) => keccak256(new TextEncoder().encode(`${seed}-${i}`))

/**
 * Writes `dir/genesis.json` (the dev genesis funding `accounts`, `config.cairn.bft` with the
 * validators) and each validator's `dir/node-i/keys/validator.key`; returns the genesis path.
 */
export function writeBftSetup(
  dir: string,
  opts: {
    seed: string
    validators: number
    chainId: bigint
    accounts: readonly Hex[]
    blockTimeMs: number
    gasLimit?: bigint
    timeouts?: Record<string, number>
  },
): string {
  const genesis = devGenesis({
    chainId: opts.chainId,
    accounts: [...opts.accounts],
    timestamp: BigInt(Math.floor(Date.now() / 1000)),
  }) as { config: Record<string, unknown>; gasLimit: string }
  if (opts.gasLimit !== undefined) genesis.gasLimit = `0x${opts.gasLimit.toString(16)}`
  const ids = Array.from({ length: opts.validators }, (_, i) => i)
  genesis.config.cairn = {
    bft: {
      validators: ids.map((i) => ({ address: bytesToHex(privateKeyToAddress(validatorKey(opts.seed, i))), power: 1 })),
      ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
      blockTimeMs: opts.blockTimeMs,
    },
  }
  const path = join(dir, 'genesis.json')
  writeFileSync(path, JSON.stringify(genesis))
  for (const i of ids) {
    mkdirSync(join(dir, `node-${i}`, 'keys'), { recursive: true, mode: 0o700 })
    writeFileSync(
      join(dir, `node-${i}`, 'keys', 'validator.key'),
      `${Buffer.from(validatorKey(opts.seed, i)).toString('hex')}\n`,
      { mode: 0o600 },
    )
  }
  return path
}

/** Starts validator `i` of `dir` (its datadir `dir/node-i`) with the network on, loopback only. */
export function startValidator(dir: string, i: number, genesis: string, bootnodes: string[]): Promise<StartedNode> {
  const config = loadConfig({
    flags: {
      engine: 'bft',
      genesis,
      datadir: join(dir, `node-${i}`),
      'keys.validator': true,
      'http.port': 0,
      'p2p.enabled': true,
      'p2p.addr': '127.0.0.1',
      'p2p.port': 0,
      'p2p.dht': false,
      // admin_nodeInfo names each validator's listen address for the others' bootnodes.
      'rpc.api': 'eth,net,web3,cairn,admin',
      ...(bootnodes.length > 0 ? { 'p2p.bootnodes': bootnodes.join(',') } : {}),
    },
    env: {},
  })
  return startNode(config, { logger: silentLogger })
}
