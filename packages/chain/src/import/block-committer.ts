import type { ExecutedBlock } from '../execution/executor.ts'
import type { BlockImporter, ImportResult } from './importer.ts'

export interface CommitOptions {
  /**
   * The engine has proven the block final (its certificate): written final in the block's own
   * batch when it becomes the head (see `BlockImporter.importBlock`).
   */
  finality?: Uint8Array
  /**
   * Whether the dev-mode impersonation table applies to its transactions: yes (the default) for
   * what this node produced, `false` for blocks from outside (a BFT proposal).
   */
  senderOverrides?: boolean
}

/**
 * Commits an executed block (the local producer's, or a `BlockVerifier`'s result) without
 * executing it again: the block, its receipts, indexes and state writes in one batch, then the
 * head and the events. `chain.committer`.
 */
export interface BlockCommitter {
  commit(executed: ExecutedBlock, opts?: CommitOptions): Promise<ImportResult>
}

/** The {@link BlockCommitter} of a chain: its importer's one commit path. */
export class ImporterCommitter implements BlockCommitter {
  constructor(private readonly modules: { importer: BlockImporter }) {}

  commit(executed: ExecutedBlock, opts: CommitOptions = {}): Promise<ImportResult> {
    return this.modules.importer.importBlock(executed.block, executed, {
      ...(opts.senderOverrides !== undefined ? { senderOverrides: opts.senderOverrides } : {}),
      ...(opts.finality !== undefined ? { finality: opts.finality } : {}),
    })
  }
}
