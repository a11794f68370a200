import { CREATE2_DEPLOYER, DEFAULT_HARDFORK, devGenesis } from '@cairn/chain'
import { loadConfig } from './config/load.ts'
import type { NodeConfig } from './config/schema.ts'
import { type DevAccount, devAccounts } from './dev-accounts.ts'
import { readGenesisFile } from './genesis-file.ts'

/**
 * The genesis a node with `config` starts from: the `genesis` file when one is set, else with
 * `dev` the dev genesis (its chain id, the dev accounts funded), else none (the datadir's own).
 * `cairn start` and `cairn import --dev` both build it here, so they agree on the genesis hash.
 */
export function nodeGenesis(
  config: NodeConfig,
  accounts: DevAccount[] = config.dev
    ? devAccounts(config.dev_accounts.mnemonic, config.dev_accounts.count, config.dev_accounts.derivationPath)
    : [],
): unknown {
  if (config.genesis) return readGenesisFile(config.genesis)
  if (config.dev) {
    const d = config.devChain
    const genesis = devGenesis({
      chainId: BigInt(config.chainId ?? 1337),
      accounts: accounts.map((a) => a.address),
      balance: config.dev_accounts.balance,
      ...(d.timestamp !== undefined ? { timestamp: d.timestamp } : {}),
    }) as Record<string, unknown> & { config: Record<string, unknown> }
    // Anvil's --hardfork, --gas-limit, --disable-block-gas-limit, --base-fee: unset, the dev genesis
    // stays as it was (the same hash: an existing datadir opens).
    const gasLimit = d.disableBlockGasLimit ? 2n ** 63n - 1n : d.gasLimit
    if (gasLimit !== undefined) genesis.gasLimit = hex(gasLimit)
    if (d.baseFee !== undefined) genesis.baseFeePerGas = hex(d.baseFee)
    // Anvil's --disable-default-create2-deployer: the dev genesis without it (another hash).
    if (!d.create2Deployer) {
      const alloc = genesis.alloc as Record<string, unknown>
      delete alloc[CREATE2_DEPLOYER.address]
    }
    if (d.hardfork !== undefined) {
      genesis.config = {
        ...genesis.config,
        cairn: { hardfork: d.hardfork === 'latest' ? DEFAULT_HARDFORK : d.hardfork },
      }
    }
    return genesis
  }
  return undefined
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`
}

/**
 * The dev genesis `cairn start --dev` would build under `env` (CAIRN_CHAIN_ID, CAIRN_DEV_ACCOUNTS_*
 * apply): what `cairn import --dev` imports onto and what `cairn export` recognizes as `--dev`.
 */
export function devNodeGenesis(env: Record<string, string | undefined>): unknown {
  return nodeGenesis(loadConfig({ flags: { dev: true }, env }))
}
