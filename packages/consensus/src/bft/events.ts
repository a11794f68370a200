/**
 * What goes into the state machine (events) and what comes out (actions). The driver — the node or
 * the simulator — turns actions into I/O and feeds the results back as events:
 *
 * - `broadcastProposal` / `broadcastVote`: sign through the `ValidatorSigner` (which refuses a
 *   double sign), send to every peer, and hand the signed message back to this machine as an event
 *   (a validator counts its own votes the same way it counts others');
 * - `scheduleTimeout`: after `delayMs`, hand back a `timeout` event;
 * - `buildBlock`: build a block on the last committed one and hand back `proposalBlock`;
 * - `validateBlock`: check the block (hash, execution) and hand back `validity`;
 * - `commit`: the block is final; persist it with its certificate (before acting on anything else);
 * - `evidence`: keep it in the evidence pool.
 */
import type { CommitCertificate } from './certificate.ts'
import type { DuplicateVoteEvidence } from './evidence.ts'
import type { BlockHash, Proposal, SignedProposal, SignedVote, Vote } from './messages.ts'
import type { Timeout } from './timeouts.ts'

export type BftEvent =
  | { kind: 'proposal'; proposal: SignedProposal }
  | { kind: 'vote'; vote: SignedVote }
  | { kind: 'timeout'; timeout: Timeout }
  | { kind: 'validity'; height: number; blockHash: BlockHash; valid: boolean }
  /** The block this validator proposes for (height, round), answering `buildBlock`. */
  | { kind: 'proposalBlock'; height: number; round: number; blockHash: BlockHash; block: Uint8Array }
  /**
   * Catch-up: a peer's commit certificate for the current height with the block. The machine checks
   * the certificate (signers, > 2/3 of the power) and commits once the block is valid, even when its
   * own vote sets could not reach the majority (an equivocator's conflicting votes are not counted).
   */
  | { kind: 'certificate'; certificate: CommitCertificate; block: Uint8Array }

export type BftAction =
  | { kind: 'broadcastProposal'; proposal: Proposal }
  | { kind: 'broadcastVote'; vote: Vote }
  | { kind: 'scheduleTimeout'; timeout: Timeout; delayMs: number }
  | { kind: 'buildBlock'; height: number; round: number }
  | { kind: 'validateBlock'; height: number; blockHash: BlockHash; block: Uint8Array }
  | {
      kind: 'commit'
      height: number
      round: number
      blockHash: BlockHash
      block: Uint8Array
      certificate: CommitCertificate
    }
  | { kind: 'evidence'; evidence: DuplicateVoteEvidence }
