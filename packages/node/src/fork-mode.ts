import { type Chain, ChainErrorCode, DEFAULT_HARDFORK, type ForkOptions } from '@cairn/chain'
import { CairnError } from '@cairn/utils'
import { Address } from '@ethereumjs/util'
import type { NodeConfig } from './config/schema.ts'
import type { DevAccount } from './dev-accounts.ts'

/**
 * The config a fork runs with (`fork.url` set): a dev chain only (refused otherwise), in memory
 * unless a `datadir` is given (as Anvil's), and without read threads (their stores do not fetch). A config without a fork is returned as is.
 */
export function forkConfig(config: NodeConfig): NodeConfig {
  if (config.fork.url === undefined) return config
  if (!config.dev) {
    throw new CairnError(ChainErrorCode.FORK_REMOTE, '--fork-url forks into a dev chain: it needs --dev', {
      fault: 'caller',
      hint: 'start with --dev --fork-url URL (add --ephemeral to keep nothing)',
    })
  }
  if (config.genesis !== undefined) {
    throw new CairnError(ChainErrorCode.FORK_REMOTE, '--fork-url and --genesis do not go together', {
      fault: 'caller',
      hint: "a fork's first block and state are the remote's: drop --genesis",
    })
  }
  // Without --datadir a fork keeps nothing, as Anvil's (./.cairn/dev holds the dev chain: another genesis).
  const ephemeral = config.ephemeral || config.datadir === undefined
  return { ...config, ephemeral, rpc: { ...config.rpc, threads: 0 } }
}

/** The fork's connection options from the config. */
export function forkOptions(config: NodeConfig): ForkOptions {
  const f = config.fork
  return {
    url: f.url as string,
    attempts: f.retries,
    timeoutMs: f.timeoutMs,
    requestsPerSecond: f.requestsPerSecond,
    backoffMs: f.retryBackoffMs,
    ...(f.blockNumber !== undefined ? { blockNumber: BigInt(f.blockNumber) } : {}),
    ...(f.chainId !== undefined ? { chainId: BigInt(f.chainId) } : {}),
    ...(config.chainId !== undefined && f.chainId === undefined ? { chainId: BigInt(config.chainId) } : {}),
  }
}

/** The hardfork of a fork's rules (`--hardfork`; `latest` is the newest supported). */
export function forkHardfork(config: NodeConfig): string {
  const h = config.devChain.hardfork
  return h === undefined || h === 'latest' ? DEFAULT_HARDFORK : h
}

/**
 * Funds the dev accounts on a new fork (their balance set, as Anvil does), in one state edit on
 * the fork block; the accounts are asked of the remote together (one batch).
 */
export async function fundForkAccounts(chain: Chain, accounts: DevAccount[], balance: bigint): Promise<void> {
  if (accounts.length === 0) return
  const addresses = accounts.map((a) => new Address(Buffer.from(a.address.slice(2), 'hex')))
  await chain.dev.editHead(async (state) => {
    await Promise.all(addresses.map((a) => state.getAccount(a)))
    for (const a of addresses) await state.modifyAccountFields(a, { balance })
  })
}

/** A URL without its path and query (API keys travel there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}`
  } catch {
    return '(bad url)'
  }
}
