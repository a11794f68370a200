import type { ChainParts } from '../chain-parts.ts'
import type { EditedStates } from './edited-states.ts'

/** A chain's parts and what a dev chain keeps beside them (its edited states). */
export interface DevParts extends ChainParts {
  readonly editedStates: EditedStates
}
