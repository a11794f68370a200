/**
 * Byzantine validators for the network testbed (test/chaos, docs/consensus/testing.md): a wrapper
 * around a validator's consensus transport that misbehaves with the validator's own key. The engine
 * underneath stays honest; the wrapper adds (or removes) messages on the topic:
 *
 * - `silent`: drops the validator's own proposals, votes and evidence (it still asks for and answers
 *   catch-up, so it follows the chain) — a crashed validator that looks alive;
 * - `double-vote`: every vote it sends is followed by a conflicting one of the same (height, round,
 *   type): nil for a block, a random hash for nil — duplicate-vote evidence for honest nodes;
 * - `double-propose`: every proposal it sends is followed by a second one of the same (height,
 *   round) for other bytes (not a block: honest validators find it invalid and prevote nil);
 * - `ignore-lock`: on every proposal it receives, it prevotes and precommits the proposed block at
 *   once, whatever its lock, the quorums or what its engine signed (an amnesia attack; where its
 *   engine voted otherwise, that is an equivocation too).
 *
 * Node wiring honours it only under the testbed's config (`testbed.byzantine`, refused unless
 * `CAIRN_TESTBED=1` and never in the prod profile). Nothing here is used by an honest node.
 */
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, type Logger } from '@cairn/utils'
import { MsgType, type SignedProposal, type SignedVote, type VoteType } from './messages.ts'
import type { BftTransport } from './reactor.ts'
import { proposalDigest, signDigest, voteDigest } from './signing.ts'
import { decodeWire, encodeWire, type WireMessage } from './wire.ts'

export type ByzantineMode = 'silent' | 'double-vote' | 'double-propose' | 'ignore-lock'

export interface ByzantineOptions {
  mode: ByzantineMode
  chainId: bigint
  /** The validator's key: the conflicting messages are really its own. */
  privateKey: Uint8Array
}

export interface ByzantineModules {
  logger: Logger
  /** 32 random bytes (the conflicting hash, the bogus block); injected for tests. */
  randomBytes?: () => Uint8Array
}

function defaultRandomBytes(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32))
}

/** `inner` with the misbehaviour of `opts.mode` layered on its outgoing (and, for ignore-lock, incoming) messages. */
export function byzantineTransport(
  inner: BftTransport,
  opts: ByzantineOptions,
  modules: ByzantineModules,
): BftTransport {
  const random = modules.randomBytes ?? defaultRandomBytes
  let nonce = 1_000_000_000
  const voted = new Set<string>()
  const send = (msg: WireMessage, what: string, height: number, round: number) => {
    modules.logger.info({ byzantine: opts.mode, height, round, what }, 'byzantine: sent a conflicting message')
    return inner.publish(encodeWire(msg, nonce++))
  }
  const signVote = (type: VoteType, height: number, round: number, blockHash: Uint8Array | null): SignedVote => {
    const vote = { type, height, round, blockHash }
    return { ...vote, signature: signDigest(voteDigest(opts.chainId, vote), opts.privateKey) }
  }
  const decode = (data: Uint8Array): WireMessage | null => {
    try {
      return decodeWire(data)
    } catch {
      return null
    }
  }
  return {
    async publish(data) {
      const msg = decode(data)
      if (opts.mode === 'silent' && msg && msg.kind !== 'commit' && msg.kind !== 'status') return
      await inner.publish(data)
      if (opts.mode === 'double-vote' && msg?.kind === 'vote') {
        const v = msg.vote
        const other = signVote(v.type as VoteType, v.height, v.round, v.blockHash === null ? random() : null)
        await send({ kind: 'vote', vote: other }, 'vote', v.height, v.round)
      }
      if (opts.mode === 'double-propose' && msg?.kind === 'proposal') {
        const p = msg.proposal
        const block = random()
        const proposal = { height: p.height, round: p.round, polRound: -1, blockHash: keccak256(block), block }
        const signed: SignedProposal = {
          ...proposal,
          signature: signDigest(proposalDigest(opts.chainId, proposal), opts.privateKey),
        }
        await send({ kind: 'proposal', proposal: signed }, 'proposal', p.height, p.round)
      }
    },
    setHandler(handler) {
      if (opts.mode !== 'ignore-lock' || handler === null) {
        inner.setHandler(handler)
        return
      }
      inner.setHandler(async (data, from) => {
        const msg = decode(data)
        if (msg?.kind === 'proposal') {
          const p = msg.proposal
          const key = `${p.height}/${p.round}/${bytesToHex(p.blockHash)}`
          if (!voted.has(key)) {
            voted.add(key)
            if (voted.size > 10_000) voted.clear()
            for (const type of [MsgType.PREVOTE, MsgType.PRECOMMIT] as const) {
              await send(
                { kind: 'vote', vote: signVote(type, p.height, p.round, p.blockHash) },
                'vote',
                p.height,
                p.round,
              )
            }
          }
        }
        return handler(data, from)
      })
    },
  }
}
