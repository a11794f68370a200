import type { KVStore } from '@cairn/db'
import { CairnError } from '@cairn/utils'
import type { Common } from '@ethereumjs/common'
import { ChainErrorCode } from '../errors.ts'
import { ChainCommons } from '../rules/common.ts'
import { type GenesisSpec, parseGenesis } from '../rules/genesis.ts'
import { StateDB } from '../state/state-db.ts'
import type { BlockReader } from './block-reader.ts'
import { ChainStore, type HeadName } from './store.ts'
import { readStoredGenesis } from './stored-genesis.ts'

/** The stored blocks of a chain opened for inspection, and its head pointers as stored. */
export interface StoredBlocks extends BlockReader {
  getHeadHash(name: HeadName): Promise<Uint8Array | undefined>
}

const STORES = new WeakMap<StoredChainView, { store: ChainStore; stateDB: StateDB }>()

/** The store and state database under a view (this package's `checkChain`). */
export function storedParts(view: StoredChainView): { store: ChainStore; stateDB: StateDB } {
  const parts = STORES.get(view)
  if (parts === undefined)
    throw new CairnError(ChainErrorCode.MISUSE, 'not a view opened by openStoredChain', { fault: 'internal' })
  return parts
}

/** A chain's store opened for reading, without start-up repair or an engine. */
export interface StoredChainView {
  /** The stored blocks, and where the head pointers point. */
  blocks: StoredBlocks
  /** The Common of the genesis block's fork. */
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
  const store = new ChainStore(kv, commons)
  const view: StoredChainView = { blocks: store, common, genesis, genesisJson }
  STORES.set(view, { store, stateDB: new StateDB(kv) })
  return view
}
