/** Four validators with real keys, and helpers that sign votes and proposals for state-machine tests. */
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import {
  type BftAction,
  BftStateMachine,
  type BlockHash,
  createVerifier,
  MsgType,
  type Proposal,
  proposalDigest,
  type SignedProposal,
  type SignedVote,
  signDigest,
  type TimeoutConfig,
  ValidatorSet,
  type Vote,
  type VoteType,
  voteDigest,
} from '../../src/index.ts'

export const CHAIN_ID = 7n
export const TIMEOUTS: TimeoutConfig = {
  proposeMs: 1000,
  proposeDeltaMs: 500,
  prevoteMs: 400,
  prevoteDeltaMs: 100,
  precommitMs: 400,
  precommitDeltaMs: 100,
  commitMs: 0,
}

export const KEYS = [1, 2, 3, 4].map((i) => keccak256(new TextEncoder().encode(`bft-fixture-${i}`)))
export const ADDRESSES = KEYS.map((k) => privateKeyToAddress(k))
/** Equal power: any 3 of 4 are > 2/3, any 2 are > 1/3. */
export const SET = ValidatorSet.create(ADDRESSES.map((address) => ({ address, votingPower: 10n })))

/** The key of the validator at `index` in SET's order. */
export function keyAt(index: number): Uint8Array {
  const address = SET.at(index)?.address as Uint8Array
  return KEYS[ADDRESSES.findIndex((a) => Buffer.compare(a, address) === 0)] as Uint8Array
}

export function block(tag: string): { block: Uint8Array; hash: BlockHash } {
  const bytes = new TextEncoder().encode(tag)
  return { block: bytes, hash: keccak256(bytes) }
}

export function vote(index: number, type: VoteType, height: number, round: number, hash: BlockHash | null): SignedVote {
  const v: Vote = { type, height, round, blockHash: hash }
  return { ...v, signature: signDigest(voteDigest(CHAIN_ID, v), keyAt(index)) }
}

export function proposal(
  height: number,
  round: number,
  b: { block: Uint8Array; hash: BlockHash },
  polRound = -1,
): SignedProposal {
  const proposer = SET.proposerIndex(round)
  const p: Proposal = { height, round, polRound, blockHash: b.hash, block: b.block }
  return { ...p, signature: signDigest(proposalDigest(CHAIN_ID, p), keyAt(proposer)) }
}

/** A validator that is not the proposer of rounds 0..3 at height 1, if there is one; else index 0. */
export function nonProposer(): number {
  for (let i = 0; i < SET.size; i++) {
    if ([0, 1, 2, 3].every((r) => SET.proposerIndex(r) !== i)) return i
  }
  return [0, 1, 2, 3].find((i) => SET.proposerIndex(0) !== i && SET.proposerIndex(1) !== i) ?? 0
}

/** The machine of validator `self` at height 1 (every height has SET). */
export function machine(self: number): BftStateMachine {
  return new BftStateMachine(
    { chainId: CHAIN_ID, self: SET.at(self)?.address ?? null, height: 1, timeouts: TIMEOUTS },
    { validatorSetAt: () => SET, verifier: createVerifier(CHAIN_ID), blockHash: (b) => keccak256(b) },
  )
}

export function votesOut(actions: BftAction[]): Vote[] {
  return actions.flatMap((a) => (a.kind === 'broadcastVote' ? [a.vote] : []))
}

export function others(self: number): number[] {
  return [0, 1, 2, 3].filter((i) => i !== self)
}

export const PREVOTE = MsgType.PREVOTE
export const PRECOMMIT = MsgType.PRECOMMIT
