import type { TypedEmitter } from '@cairn/utils'
import { CairnError } from '@cairn/utils'
import { ChainErrorCode } from './errors.ts'
import type { ChainEvents } from './events.ts'
import type { Executor } from './execution/executor.ts'
import type { BlockProcessor } from './import/block-processor.ts'
import type { BlockImporter } from './import/importer.ts'
import type { StateDB } from './state/state-db.ts'
import type { ChainStore } from './store/store.ts'

/**
 * The parts a `Chain` is made of. Private to this package: other packages hold the chain's faces
 * (`ChainReader`, `StateReader`, `BlockVerifier`, `BlockCommitter`, `DevChain`), and
 * `test/layering.test.ts` fails an import of this file (or of any file but the package's index)
 * from outside. Modules of this package that work on a chain (replay, rewind, check) reach them
 * through {@link chainParts}.
 */
export interface ChainParts {
  readonly store: ChainStore
  readonly stateDB: StateDB
  readonly executor: Executor
  readonly importer: BlockImporter
  readonly blocks: BlockProcessor
  readonly events: TypedEmitter<ChainEvents>
}

const PARTS = new WeakMap<object, ChainParts>()

/** Called once by `Chain.open`. */
export function setChainParts(chain: object, parts: ChainParts): void {
  PARTS.set(chain, parts)
}

/** The parts of a chain opened by `Chain.open`. */
export function chainParts(chain: object): ChainParts {
  const parts = PARTS.get(chain)
  if (parts === undefined)
    throw new CairnError(ChainErrorCode.MISUSE, 'not a chain opened by Chain.open', { fault: 'internal' })
  return parts
}
