import { type KVStore, WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Address } from '@ethereumjs/util'
import type { ChainParts } from '../chain-parts.ts'
import { ChainErrorCode } from '../errors.ts'
import type { ExecutedBlock, StateEdit } from '../execution/executor.ts'
import type { DevParts } from './dev-parts.ts'
import { EditedStates } from './edited-states.ts'
import { type ReplaceResult, type RewindResult, replaceBranch, rewindChain } from './rewind.ts'
import { SenderOverrides } from './sender-overrides.ts'

/**
 * What only a dev chain does (Anvil's and Hardhat's controls): edit the state after the head
 * without a block, take the head back, replace a branch, accept a transaction from an address
 * whose key nobody holds. Reached as `chain.dev`; a network engine never calls it, and what these
 * write is written as the importer writes (one atomic batch, under its lock, with events).
 */
export interface DevChain {
  /** Applies `edit` to the state after the head (anvil_setBalance and kin); returns the new root. */
  editHead(edit: StateEdit): Promise<Uint8Array>
  /** Makes `root` the state after the head again, or the head's own state with undefined. */
  restoreHead(root: Uint8Array | undefined): Promise<void>
  /** Makes the canonical block `toHash` the head and forgets the blocks above it (evm_revert). */
  rewind(toHash: Uint8Array): Promise<RewindResult>
  /** Replaces the canonical blocks above `ancestorHash` with executed `branch` (anvil_reorg). */
  replaceBranch(ancestorHash: Uint8Array, branch: ExecutedBlock[]): Promise<ReplaceResult>
  /** Records `sender` as the sender of unsigned `tx` (impersonation); returns the tx to pool. */
  registerSender(tx: TypedTransaction, sender: Address): Promise<TypedTransaction>
  /** Starts recording the addresses and slots blocks write (anvil_dumpState reads them). */
  recordPreimages(): void
}

/**
 * {@link DevChain} over a chain's parts. It owns what only a dev chain keeps — the impersonated
 * senders ({@link SenderOverrides}) and the states edited without a block ({@link EditedStates})
 * — and plugs them into the core through two hooks: the store's `senders` and the executor's
 * `rootAfter`, so neither knows of dev mode.
 */
export class DevChainControls implements DevChain {
  private readonly parts: DevParts

  constructor(
    parts: ChainParts,
    /** The states edited without a block ({@link DevChainControls.openEdits}). */
    readonly edits: EditedStates,
    /** The impersonated senders ({@link DevChainControls.openSenders}), the store's `senders` hook. */
    readonly senders: SenderOverrides,
  ) {
    this.parts = { ...parts, editedStates: edits }
  }

  /** The impersonated senders stored by earlier runs, for the store's `senders` hook. */
  static async openSenders(kv: KVStore): Promise<SenderOverrides> {
    const senders = new SenderOverrides(kv)
    await senders.load()
    return senders
  }

  /** The states edited by earlier runs; `rootAfter` is the executor's hook. */
  static openEdits(kv: KVStore): Promise<EditedStates> {
    return EditedStates.load(kv)
  }

  editHead(edit: StateEdit): Promise<Uint8Array> {
    return editHeadState(this.parts, edit)
  }

  restoreHead(root: Uint8Array | undefined): Promise<void> {
    return restoreHeadState(this.parts, root)
  }

  rewind(toHash: Uint8Array): Promise<RewindResult> {
    return rewindChain(this.parts, toHash)
  }

  replaceBranch(ancestorHash: Uint8Array, branch: ExecutedBlock[]): Promise<ReplaceResult> {
    return replaceBranch(this.parts, ancestorHash, branch)
  }

  registerSender(tx: TypedTransaction, sender: Address): Promise<TypedTransaction> {
    return this.senders.register(tx, sender)
  }

  recordPreimages(): void {
    this.parts.executor.recordPreimages(this.parts.store.kv)
  }
}

/**
 * Applies `edit` to the state after the head, without a block (see {@link EditedStates}): the
 * edit runs on a private state manager at the head's (possibly already edited) state; its trie
 * nodes, the new entry and the preimages it recorded are written in one batch. Under the
 * importer's lock, so the head does not move meanwhile. Returns the new state root.
 */
function editHeadState(chain: DevParts, edit: StateEdit): Promise<Uint8Array> {
  return chain.importer.exclusive(async () => {
    const head = chain.importer.head.header
    const { root, writes } = await chain.executor.applyEdit(head, edit)
    const batch = new WriteBatch()
    chain.stateDB.commitLayer(writes, batch)
    chain.executor.preimages?.drainInto(batch)
    const done = chain.editedStates.stage(batch, head, root)
    await batch.write(chain.store.kv)
    writes.markCommitted()
    done()
    return root
  })
}

/**
 * Makes `root` the state after the head again (evm_revert to a snapshot taken with edits), or
 * the head's own state with undefined (anvil_reset). The root must be stored (one the head had).
 */
function restoreHeadState(chain: DevParts, root: Uint8Array | undefined): Promise<void> {
  return chain.importer.exclusive(async () => {
    const head = chain.importer.head.header
    if (root !== undefined && !chain.stateDB.has(root)) {
      throw new CairnError(ChainErrorCode.STATE_MISSING, `state root ${bytesToHex(root)} is not stored`, {
        hint: 'restore only a state the head had',
      })
    }
    const batch = new WriteBatch()
    const done = chain.editedStates.stage(batch, head, root)
    if (batch.size === 0) return
    await batch.write(chain.store.kv)
    done()
  })
}
