import type { KVStore } from '@cairn/db'
import { CairnError } from '@cairn/utils'
import type { Common } from '@ethereumjs/common'
import { createChainCommon } from './common.ts'
import { ChainErrorCode } from './errors.ts'
import { type GenesisSpec, parseGenesis } from './genesis.ts'
import { StateDB } from './state-db.ts'
import { ChainStore } from './store.ts'

/** A chain's store opened for reading, without start-up repair or an engine. */
export interface StoredChainView {
  store: ChainStore
  stateDB: StateDB
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
  const probe = new ChainStore(kv, createChainCommon({ chainId: 1n, hardfork: 'prague' }))
  const raw = await probe.meta.get('genesis')
  if (!raw) {
    throw new CairnError(ChainErrorCode.GENESIS_INVALID, 'the database holds no chain (no stored genesis)', {
      fault: 'caller',
      hint: 'point --datadir at a datadir created by `cairn init` or `cairn start`',
    })
  }
  const genesisJson = JSON.parse(new TextDecoder().decode(raw)) as unknown
  const genesis = parseGenesis(genesisJson, 'stored genesis')
  const common = createChainCommon({ chainId: genesis.chainId, hardfork: genesis.hardfork })
  return { store: new ChainStore(kv, common), stateDB: new StateDB(kv), common, genesis, genesisJson }
}
