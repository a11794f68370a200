/**
 * The BFT engine's view of the chain: `cairn_getCommit(block)` — the commit certificate that made
 * the block final (the precommits of more than 2/3 of the voting power; once the next block is in,
 * the fuller one it carries, late precommits included) with each signer's address,
 * or null when the block is not (yet) final or the engine proves no finality (dev) — and
 * `cairn_getValidators(block)`, the validator set that decides that block's height — and
 * `cairn_getEvidence(block)`, the duplicate-vote evidence the block carries in its extra data
 * (verified when the block was imported), decoded.
 */
import { bftExtraEvidence, decodeBftExtra, decodeCertificate, MsgType } from '@cairn/consensus'
import { bytesToHex, CairnError, toQuantity } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { RpcErrorCode } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { resolveBlock } from '../resolve.ts'
import { blockRefOrHash } from '../schemas.ts'

/**
 * The certificate of block `number` that its canonical child carries (verified when the child was
 * imported): the precommits that made the block final plus those that arrived until the child was
 * proposed (CometBFT's `LastCommit`), so every validator that signed shows, not only the first
 * 2/3 the node stored at the commit. Undefined while the block has no child.
 */
async function carriedCertificate(ctx: RpcContext, number: bigint, hash: Uint8Array) {
  const child = await ctx.chain.getBlockByNumber(number + 1n)
  if (child === undefined || bytesToHex(child.header.parentHash) !== bytesToHex(hash)) return undefined
  try {
    const cert = decodeBftExtra(child.header.extraData, schemeOf(ctx)).parentCertificate
    return cert !== null && bytesToHex(cert.blockHash) === bytesToHex(hash) ? cert : undefined
  } catch {
    return undefined
  }
}

/** The chain's consensus signature scheme (certificates and evidence carry its signatures). */
function schemeOf(ctx: RpcContext): 'secp256k1' | 'ml-dsa-65' | 'hybrid' {
  return ctx.consensus?.validatorsAt(1).scheme ?? 'secp256k1'
}

function consensusOf(ctx: RpcContext): NonNullable<RpcContext['consensus']> {
  if (ctx.consensus === undefined) {
    throw new CairnError(RpcErrorCode.NOT_SUPPORTED, "this chain's engine has no validator set (not a BFT chain)", {
      fault: 'caller',
    })
  }
  return ctx.consensus
}

/** `cairn_getEvidence`'s answer: one entry per equivocation the block carries. */
export interface RpcEvidence {
  type: 'duplicateVote'
  validator: string
  height: string
  round: string
  voteType: 'prevote' | 'precommit'
  /** The two conflicting votes' block hashes (null: a nil vote), in the evidence's canonical order. */
  blockHashes: [string | null, string | null]
  signatures: [string, string]
}

const getEvidence = method({
  name: 'cairn_getEvidence',
  role: 'public',
  params: z.tuple([blockRefOrHash]),
  handler: async ([ref], ctx): Promise<RpcEvidence[]> => {
    consensusOf(ctx)
    const block = await resolveBlock(ctx, ref)
    if (block.header.number === 0n) return []
    // Imported blocks passed the BFT rules: their extra data decodes.
    const extra = decodeBftExtra(block.header.extraData, schemeOf(ctx))
    return bftExtraEvidence(extra, ctx.chain.common.chainId(), schemeOf(ctx)).map((ev) => ({
      type: 'duplicateVote',
      validator: bytesToHex(ev.validator),
      height: toQuantity(ev.voteA.height),
      round: toQuantity(ev.voteA.round),
      voteType: ev.voteA.type === MsgType.PREVOTE ? 'prevote' : 'precommit',
      blockHashes: [
        ev.voteA.blockHash === null ? null : bytesToHex(ev.voteA.blockHash),
        ev.voteB.blockHash === null ? null : bytesToHex(ev.voteB.blockHash),
      ],
      signatures: [bytesToHex(ev.voteA.signature), bytesToHex(ev.voteB.signature)],
    }))
  },
})

export const cairnConsensusMethods: MethodDef[] = [
  method({
    name: 'cairn_getCommit',
    role: 'public',
    params: z.tuple([blockRefOrHash]),
    handler: async ([ref], ctx) => {
      const block = await resolveBlock(ctx, ref)
      if (block.header.number === 0n) return null
      const bytes = await ctx.chain.getFinality(block.hash())
      if (bytes === undefined || bytes.length === 0) return null
      const cert =
        (await carriedCertificate(ctx, block.header.number, block.hash())) ?? decodeCertificate(bytes, schemeOf(ctx))
      const set = ctx.consensus?.validatorsAt(cert.height)
      return {
        height: toQuantity(cert.height),
        round: toQuantity(cert.round),
        blockHash: bytesToHex(cert.blockHash),
        signatures: cert.signatures.map((s) => {
          const v = set?.validators[s.validatorIndex]
          return {
            validatorIndex: toQuantity(s.validatorIndex),
            validator: v ? bytesToHex(v.address) : null,
            signature: bytesToHex(s.signature),
          }
        }),
      }
    },
  }),
  method({
    name: 'cairn_getValidators',
    role: 'public',
    params: z.tuple([blockRefOrHash]),
    handler: async ([ref], ctx) => {
      const consensus = consensusOf(ctx)
      const block = await resolveBlock(ctx, ref)
      // The genesis is decided by no one: answer the set of block 1.
      const height = Number(block.header.number === 0n ? 1n : block.header.number)
      const set = consensus.validatorsAt(height)
      return {
        height: toQuantity(height),
        totalVotingPower: toQuantity(set.totalVotingPower),
        proposer: bytesToHex((set.validators[set.proposerIndex(0)] as { address: Uint8Array }).address),
        validators: set.validators.map((v) => ({
          address: bytesToHex(v.address),
          votingPower: toQuantity(v.votingPower),
          proposerPriority: v.proposerPriority.toString(),
        })),
      }
    },
  }),
  getEvidence,
]
