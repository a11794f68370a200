import type { KVStore } from '@cairn/db'
import { CairnError } from '@cairn/utils'
import type { Common } from '@ethereumjs/common'
import { readStoredGenesis } from './chain.ts'
import { ChainCommons } from './common.ts'
import { ChainErrorCode } from './errors.ts'
import { type GenesisSpec, parseGenesis } from './genesis.ts'
import { StateDB } from './state-db.ts'
import { ChainStore } from './store.ts'

/** A chain's store opened for reading, without start-up repair or an engine. */
export interface StoredChainView {
  store: ChainStore
  stateDB: StateDB
  /** The Common of the genesis block's fork (`store.commons` has every fork's). */
  common: Common
  genesis: GenesisSpec
  /** The stored genesis exactly as it was given to `cairn init` / `start` (JSON). */
  genesisJson: unknown
}

/**
 * Opens the chain kept in `kv` for inspection: reads the stored genesis for the `Common`, and
 * does NOT run `repairHead` (a check must see the store as it is, and must not write to it).
 */
export async function openStoredChain(kv: KVStore): Promise<StoredChainView> {
  const { stored: genesisJson, defaultHardfork } = await readStoredGenesis(kv)
  if (genesisJson === undefined) {
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, 'the database holds no chain (no stored genesis)', {
      fault: 'caller',
      hint: 'point --datadir at a datadir created by `cairn init` or `cairn start`',
    })
  }
  const genesis = parseGenesis(genesisJson, 'stored genesis', { defaultHardfork })
  const commons = new ChainCommons(genesis.schedule)
  const common = commons.fork(genesis.hardfork)
  return { store: new ChainStore(kv, commons), stateDB: new StateDB(kv), common, genesis, genesisJson }
}
