// The testbed's byzantine transport (src/bft/byzantine.ts) over a recording transport: what each
// mode adds to or removes from the validator's messages, signed with its own key, so that honest
// nodes can make evidence of it.
import { keccak256 } from '@cairn/crypto'
import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import type { WireMessage } from '../../src/bft/wire.ts'
import {
  type BftTransport,
  byzantineTransport,
  decodeWire,
  duplicateVoteEvidence,
  encodeWire,
  proposalDigest,
  recoverSigner,
  verifyDuplicateVoteEvidence,
} from '../../src/index.ts'
import { CHAIN_ID, keyAt, PRECOMMIT, PREVOTE, SET, vote } from './fixture.ts'

function recording() {
  const sent: WireMessage[] = []
  let handler: ((data: Uint8Array, from: string) => Promise<'accept' | 'ignore' | 'reject'>) | null = null
  const inner: BftTransport = {
    publish: (data) => {
      sent.push(decodeWire(data))
    },
    setHandler: (h) => {
      handler = h
    },
  }
  return { sent, inner, deliver: (data: Uint8Array) => handler?.(data, 'peer') }
}

const HASH = keccak256(new TextEncoder().encode('block'))
const byz = (mode: 'silent' | 'double-vote' | 'double-propose' | 'ignore-lock', inner: BftTransport) =>
  byzantineTransport(inner, { mode, chainId: CHAIN_ID, privateKey: keyAt(0) }, { logger: silentLogger })

describe('byzantineTransport', () => {
  it('double-vote: every vote is followed by a conflicting one, which makes valid duplicate-vote evidence', async () => {
    const r = recording()
    const t = byz('double-vote', r.inner)
    const own = vote(0, PREVOTE, 5, 1, HASH)
    await t.publish(encodeWire({ kind: 'vote', vote: own }, 1))
    expect(r.sent).toHaveLength(2)
    const other = r.sent[1]
    if (other?.kind !== 'vote') throw new Error('no conflicting vote')
    expect(other.vote).toMatchObject({ type: PREVOTE, height: 5, round: 1, blockHash: null })
    // Honest nodes can prove it: the pair verifies as evidence against validator 0.
    expect(() =>
      verifyDuplicateVoteEvidence(
        duplicateVoteEvidence(SET.at(0)?.address as Uint8Array, own, other.vote),
        SET,
        CHAIN_ID,
      ),
    ).not.toThrow()
    // A nil vote is contradicted by a vote for a block.
    await t.publish(encodeWire({ kind: 'vote', vote: vote(0, PRECOMMIT, 5, 2, null) }, 2))
    const third = r.sent[3]
    expect(third?.kind === 'vote' && third.vote.blockHash?.length).toBe(32)
  })

  it('silent: drops its proposals, votes and evidence; status and commits still go', async () => {
    const r = recording()
    const t = byz('silent', r.inner)
    await t.publish(encodeWire({ kind: 'vote', vote: vote(0, PREVOTE, 5, 0, HASH) }, 1))
    await t.publish(encodeWire({ kind: 'status', height: 5 }, 2))
    expect(r.sent.map((m) => m.kind)).toEqual(['status'])
  })

  it('double-propose: a second proposal of the same height and round, signed by the proposer, for other bytes', async () => {
    const r = recording()
    const t = byz('double-propose', r.inner)
    const block = new Uint8Array([1, 2, 3])
    const p = { height: 3, round: 0, polRound: -1, blockHash: keccak256(block), block }
    const signature = new Uint8Array(65)
    await t.publish(encodeWire({ kind: 'proposal', proposal: { ...p, signature } }, 1))
    expect(r.sent).toHaveLength(2)
    const second = r.sent[1]
    if (second?.kind !== 'proposal') throw new Error('no second proposal')
    expect(second.proposal.height).toBe(3)
    expect(second.proposal.blockHash).not.toEqual(p.blockHash)
    expect(second.proposal.blockHash).toEqual(keccak256(second.proposal.block))
    expect(recoverSigner(proposalDigest(CHAIN_ID, second.proposal), second.proposal.signature)).toEqual(
      SET.at(0)?.address,
    )
  })

  it('ignore-lock: a proposal received is prevoted and precommitted at once (once per proposal)', async () => {
    const r = recording()
    const t = byz('ignore-lock', r.inner)
    const seen: string[] = []
    t.setHandler(async (data) => {
      seen.push(decodeWire(data).kind)
      return 'accept'
    })
    const block = new Uint8Array([9])
    const msg = encodeWire(
      {
        kind: 'proposal',
        proposal: {
          height: 7,
          round: 2,
          polRound: -1,
          blockHash: keccak256(block),
          block,
          signature: new Uint8Array(65),
        },
      },
      1,
    )
    await r.deliver(msg)
    await r.deliver(msg)
    expect(seen).toEqual(['proposal', 'proposal'])
    expect(r.sent.map((m) => (m.kind === 'vote' ? [m.vote.type, m.vote.height, m.vote.round] : m.kind))).toEqual([
      [PREVOTE, 7, 2],
      [PRECOMMIT, 7, 2],
    ])
  })
})
