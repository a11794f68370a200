import { existsSync } from 'node:fs'
import { ChainErrorCode } from '@cairn/chain'
import { CairnError, type Logger } from '@cairn/utils'
import type { NodeConfig } from '../config/schema.ts'
import { type DatadirLayout, datadirLayout, prepareDatadir } from '../datadir.ts'
import { type DevAccount, devAccounts } from '../dev-accounts.ts'
import { loadNodeKeys, type NodeKeys } from '../keys/node-keys.ts'
import { nodeGenesis } from '../node-genesis.ts'

/** Where the node starts from: its genesis, its datadir and the keys in it. */
export interface DatadirModule {
  /** The dev accounts (`--dev`), else none. */
  accounts: DevAccount[]
  /** Fork mode (--fork-url): the chain starts at the remote's block. */
  forking: boolean
  /** The genesis to start from; undefined: the datadir's stored one (or the fork's). */
  genesis: unknown
  /** The datadir; null with --ephemeral. */
  datadir: DatadirLayout | null
  /** The node's keys (null: ephemeral). */
  nodeKeys: NodeKeys | null
}

/**
 * Chooses the genesis, refuses a start that cannot run before anything is created, and prepares
 * the datadir and its keys. Holds nothing to close.
 */
export function openDatadir(config: NodeConfig, modules: { logger: Logger }): DatadirModule {
  const { logger } = modules
  const accounts = config.dev
    ? devAccounts(config.dev_accounts.mnemonic, config.dev_accounts.count, config.dev_accounts.derivationPath)
    : []
  // Fork mode (--fork-url): the chain starts at the remote's block, its state fetched as the state
  // managers walk to it (packages/chain/src/fork/).
  const forking = config.fork.url !== undefined
  const genesis = forking ? undefined : nodeGenesis(config, accounts)

  const datadirRoot = config.datadir ?? (config.dev ? '.cairn/dev' : '.cairn/node')
  // Refused before anything is created: a start that cannot run leaves no datadir (LevelDB, keys) behind.
  if (!forking && !config.ephemeral && genesis === undefined && !existsSync(datadirLayout(datadirRoot).chaindata)) {
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, 'the datadir holds no chain and no genesis was given', {
      fault: 'caller',
      hint: 'run `cairn init --genesis FILE --datadir DIR` or start with --dev',
    })
  }
  const datadir = config.ephemeral ? null : prepareDatadir(datadirRoot)
  // An identity on an HSM: DATADIR/keys/node.key is neither read nor made.
  const nodeKeys = datadir
    ? loadNodeKeys(datadir, { validator: config.keys.validator, identity: identityInFile(config) })
    : null
  if (nodeKeys?.recovered) {
    const { current, retiredPath } = nodeKeys.recovered
    logger.info(
      { key: current.address, retired: retiredPath },
      'completed the interrupted promotion of the next validator key (validator.next.key, its ML-DSA seed)',
    )
  }
  return { accounts, forking, genesis, datadir, nodeKeys }
}

/** The node's p2p identity is a key file in the datadir (not on an HSM). */
export function identityInFile(config: NodeConfig): boolean {
  return config.p2p.identity.kind === 'file'
}
