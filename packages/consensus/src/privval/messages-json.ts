/**
 * Votes and proposals in the JSON forms of the remote signer's protocol (`signVote`,
 * `signProposal`: @cairn/keys `remote-signer/protocol.ts`), both ways: what the validator's client
 * sends and what the signer reads back into the messages whose digest it signs.
 */
import type { SignerScheme } from '@cairn/keys/remote-signer'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import type { MsgType, Proposal, Vote } from '../bft/messages.ts'
import type { SignatureScheme } from '../bft/pq/scheme.ts'

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
// The protocol's scheme names are the chain's: a scheme added on one side only fails to compile here.
true satisfies Same<SignerScheme, SignatureScheme>

export function voteToJson(vote: Vote): { type: 1 | 2; height: number; round: number; blockHash: string | null } {
  return {
    type: vote.type,
    height: vote.height,
    round: vote.round,
    blockHash: vote.blockHash === null ? null : bytesToHex(vote.blockHash),
  }
}

export function voteFromJson(v: { type: 1 | 2; height: number; round: number; blockHash: string | null }): Vote {
  return {
    type: v.type as typeof MsgType.PREVOTE | typeof MsgType.PRECOMMIT,
    height: v.height,
    round: v.round,
    blockHash: v.blockHash === null ? null : hexToBytes(v.blockHash as `0x${string}`),
  }
}

export function proposalToJson(p: Omit<Proposal, 'block'>): {
  height: number
  round: number
  polRound: number
  blockHash: string
} {
  return { height: p.height, round: p.round, polRound: p.polRound, blockHash: bytesToHex(p.blockHash) }
}

export function proposalFromJson(p: {
  height: number
  round: number
  polRound: number
  blockHash: string
}): Omit<Proposal, 'block'> {
  return { height: p.height, round: p.round, polRound: p.polRound, blockHash: hexToBytes(p.blockHash as `0x${string}`) }
}
