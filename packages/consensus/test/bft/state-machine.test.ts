/** The paper's rules, one at a time, on the machine of one validator among four of equal power. */
import { keccak256 } from '@cairn/crypto'
import { describe, expect, it } from 'vitest'
import {
  BftStateMachine,
  createVerifier,
  decodeEvidence,
  encodeEvidence,
  Step,
  verifyCertificate,
  verifyDuplicateVoteEvidence,
} from '../../src/index.ts'
import {
  block,
  CHAIN_ID,
  machine,
  nonProposer,
  others,
  PRECOMMIT,
  PREVOTE,
  proposal,
  SET,
  TIMEOUTS,
  vote,
  votesOut,
} from './fixture.ts'

const A = block('block A')
const B = block('block B')

/** Validator s prevotes and then precommits A in round 0 (locked on A). */
function lockedOnA(s: number) {
  const m = machine(s)
  m.start()
  m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
  m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
  for (const i of others(s)) m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) })
  return m
}

describe('BftStateMachine', () => {
  it('prevotes a valid proposal, locks and precommits on > 2/3 prevotes, commits on > 2/3 precommits', () => {
    const s = nonProposer()
    const m = machine(s)
    const start = m.start()
    expect(start).toContainEqual({
      kind: 'scheduleTimeout',
      timeout: { step: 'propose', height: 1, round: 0 },
      delayMs: 1000,
    })
    const onProposal = m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
    expect(onProposal).toEqual([{ kind: 'validateBlock', height: 1, blockHash: A.hash, block: A.block }])
    const onValid = m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    expect(votesOut(onValid)).toEqual([{ type: PREVOTE, height: 1, round: 0, blockHash: A.hash }])

    const [i, j, k] = others(s) as [number, number, number]
    expect(votesOut(m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) }))).toEqual([])
    m.handle({ kind: 'vote', vote: vote(j, PREVOTE, 1, 0, A.hash) })
    const onQuorum = m.handle({ kind: 'vote', vote: vote(k, PREVOTE, 1, 0, A.hash) })
    expect(votesOut(onQuorum)).toEqual([{ type: PRECOMMIT, height: 1, round: 0, blockHash: A.hash }])
    expect(m.snapshot()).toMatchObject({ step: Step.PRECOMMIT, lockedRound: 0, lockedValue: A.hash, validRound: 0 })

    m.handle({ kind: 'vote', vote: vote(i, PRECOMMIT, 1, 0, A.hash) })
    m.handle({ kind: 'vote', vote: vote(j, PRECOMMIT, 1, 0, A.hash) })
    const onCommit = m.handle({ kind: 'vote', vote: vote(k, PRECOMMIT, 1, 0, A.hash) })
    const commit = onCommit.find((a) => a.kind === 'commit')
    expect(commit).toMatchObject({ kind: 'commit', height: 1, round: 0, blockHash: A.hash, block: A.block })
    if (commit?.kind !== 'commit') throw new TypeError('no commit')
    expect(commit.certificate.signatures.map((x) => x.validatorIndex)).toEqual([i, j, k].sort())
    expect(() => verifyCertificate(commit.certificate, SET, CHAIN_ID)).not.toThrow()
    expect(m.snapshot()).toMatchObject({ height: 2, round: 0, step: Step.PROPOSE, lockedRound: -1, lockedValue: null })
  })

  it('a validator slower than the others precommits the block it decides before it commits', () => {
    // The other three prevote and precommit A while this one is still validating it: when A turns
    // out valid, the quorum of precommits decides at once. Its precommit comes first (CometBFT's
    // enterPrecommit before enterCommit), so it can join the certificate the next block carries.
    const s = nonProposer()
    const m = machine(s)
    m.start()
    m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
    for (const i of others(s)) m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) })
    for (const i of others(s)) m.handle({ kind: 'vote', vote: vote(i, PRECOMMIT, 1, 0, A.hash) })
    const out = m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    expect(votesOut(out)).toEqual([{ type: PRECOMMIT, height: 1, round: 0, blockHash: A.hash }])
    const voteAt = out.findIndex((a) => a.kind === 'broadcastVote')
    const commitAt = out.findIndex((a) => a.kind === 'commit')
    expect(voteAt).toBeGreaterThanOrEqual(0)
    expect(commitAt).toBeGreaterThan(voteAt)
    expect(m.snapshot()).toMatchObject({ height: 2, round: 0 })
  })

  it('a validator still waiting after its last commit precommits the block the others decide', () => {
    // Its heights start later than the others' (it decided the last one late): round 0 of the next
    // height is proposed, prevoted and precommitted by the other three before its wait ends.
    const s = nonProposer()
    const m = new BftStateMachine(
      { chainId: CHAIN_ID, self: SET.at(s)?.address ?? null, height: 1, timeouts: { ...TIMEOUTS, commitMs: 1000 } },
      { validatorSetAt: () => SET, verifier: createVerifier(CHAIN_ID), blockHash: (b) => keccak256(b) },
    )
    m.start()
    m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
    m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    for (const i of others(s)) m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) })
    for (const i of others(s)) m.handle({ kind: 'vote', vote: vote(i, PRECOMMIT, 1, 0, A.hash) })
    expect(m.snapshot()).toMatchObject({ height: 2, round: 0, step: Step.NEW_HEIGHT })
    const C = block('block C at 2')
    m.handle({ kind: 'proposal', proposal: proposal(2, 0, C) })
    for (const i of others(s)) m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 2, 0, C.hash) })
    for (const i of others(s)) m.handle({ kind: 'vote', vote: vote(i, PRECOMMIT, 2, 0, C.hash) })
    const out = m.handle({ kind: 'validity', height: 2, blockHash: C.hash, valid: true })
    expect(votesOut(out)).toEqual([{ type: PRECOMMIT, height: 2, round: 0, blockHash: C.hash }])
    const voteAt = out.findIndex((a) => a.kind === 'broadcastVote')
    expect(out.findIndex((a) => a.kind === 'commit')).toBeGreaterThan(voteAt)
    expect(m.snapshot()).toMatchObject({ height: 3, round: 0, step: Step.NEW_HEIGHT })
  })

  it('a decision of an earlier round than the one it is in signs nothing more', () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
    const [i, j, k] = others(s) as [number, number, number]
    // Round 1 reached (more than 1/3 of the power there) before round 0's precommits arrive.
    m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 1, null) })
    m.handle({ kind: 'vote', vote: vote(j, PREVOTE, 1, 1, null) })
    expect(m.round).toBe(1)
    for (const x of [i, j, k]) m.handle({ kind: 'vote', vote: vote(x, PRECOMMIT, 1, 0, A.hash) })
    const out = m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    expect(out.some((a) => a.kind === 'commit')).toBe(true)
    expect(votesOut(out)).toEqual([])
  })

  it('prevotes nil when the propose timeout fires, and ignores stale timeouts', () => {
    const m = machine(nonProposer())
    m.start()
    expect(m.handle({ kind: 'timeout', timeout: { step: 'propose', height: 1, round: 1 } })).toEqual([])
    const out = m.handle({ kind: 'timeout', timeout: { step: 'propose', height: 1, round: 0 } })
    expect(votesOut(out)).toEqual([{ type: PREVOTE, height: 1, round: 0, blockHash: null }])
    expect(m.step).toBe(Step.PREVOTE)
    expect(m.handle({ kind: 'timeout', timeout: { step: 'propose', height: 1, round: 0 } })).toEqual([])
  })

  it('prevotes nil for an invalid block', () => {
    const m = machine(nonProposer())
    m.start()
    m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
    const out = m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: false })
    expect(votesOut(out)).toEqual([{ type: PREVOTE, height: 1, round: 0, blockHash: null }])
  })

  it('precommits nil on > 2/3 nil prevotes; on > 2/3 mixed prevotes waits timeoutPrevote, then precommits nil', () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    m.handle({ kind: 'timeout', timeout: { step: 'propose', height: 1, round: 0 } })
    const [i, j, k] = others(s) as [number, number, number]
    m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, null) })
    m.handle({ kind: 'vote', vote: vote(j, PREVOTE, 1, 0, null) })
    expect(votesOut(m.handle({ kind: 'vote', vote: vote(k, PREVOTE, 1, 0, null) }))).toEqual([
      { type: PRECOMMIT, height: 1, round: 0, blockHash: null },
    ])

    const m2 = machine(s)
    m2.start()
    m2.handle({ kind: 'timeout', timeout: { step: 'propose', height: 1, round: 0 } })
    m2.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) })
    m2.handle({ kind: 'vote', vote: vote(j, PREVOTE, 1, 0, null) })
    const out = m2.handle({ kind: 'vote', vote: vote(k, PREVOTE, 1, 0, B.hash) })
    expect(out).toEqual([{ kind: 'scheduleTimeout', timeout: { step: 'prevote', height: 1, round: 0 }, delayMs: 400 }])
    expect(votesOut(m2.handle({ kind: 'timeout', timeout: { step: 'prevote', height: 1, round: 0 } }))).toEqual([
      { type: PRECOMMIT, height: 1, round: 0, blockHash: null },
    ])
  })

  it('a locked validator prevotes nil for another block, then prevotes it once it carries a POL from after the lock', () => {
    const s = nonProposer()
    const m = lockedOnA(s)
    const [i, j, k] = others(s) as [number, number, number]
    // Round 0 ends without a decision: > 2/3 precommits for nil, timeoutPrecommit.
    for (const x of [i, j, k]) m.handle({ kind: 'vote', vote: vote(x, PRECOMMIT, 1, 0, null) })
    m.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 } })
    expect(m.round).toBe(1)
    // Round 1: B proposed fresh; locked on A, the validator prevotes nil.
    m.handle({ kind: 'proposal', proposal: proposal(1, 1, B) })
    const r1 = m.handle({ kind: 'validity', height: 1, blockHash: B.hash, valid: true })
    expect(votesOut(r1)).toEqual([{ type: PREVOTE, height: 1, round: 1, blockHash: null }])
    // Others prevote B in round 1 (the third arrives later), precommit nil; round 2.
    m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 1, B.hash) })
    m.handle({ kind: 'vote', vote: vote(j, PREVOTE, 1, 1, B.hash) })
    for (const x of [i, j, k]) m.handle({ kind: 'vote', vote: vote(x, PRECOMMIT, 1, 1, null) })
    m.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 1 } })
    expect(m.snapshot()).toMatchObject({ round: 2, lockedRound: 0, lockedValue: A.hash })
    // Round 2: B re-proposed with polRound 1; the POL completes: lock round 0 <= 1, prevote B.
    m.handle({ kind: 'proposal', proposal: proposal(1, 2, B, 1) })
    expect(votesOut(m.handle({ kind: 'validity', height: 1, blockHash: B.hash, valid: true }))).toEqual([])
    const out = m.handle({ kind: 'vote', vote: vote(k, PREVOTE, 1, 1, B.hash) })
    expect(votesOut(out)).toEqual([{ type: PREVOTE, height: 1, round: 2, blockHash: B.hash }])
  })

  it('a proposer re-proposes its valid value with its valid round', () => {
    const proposerOfRound1 = SET.proposerIndex(1)
    const m = lockedOnA(proposerOfRound1)
    for (const x of others(proposerOfRound1)) m.handle({ kind: 'vote', vote: vote(x, PRECOMMIT, 1, 0, null) })
    const out = m.handle({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 } })
    expect(out).toContainEqual({
      kind: 'broadcastProposal',
      proposal: { height: 1, round: 1, polRound: 0, blockHash: A.hash, block: A.block },
    })
  })

  it('a proposer with no valid value asks for a block and proposes it', () => {
    const p0 = SET.proposerIndex(0)
    const m = machine(p0)
    expect(m.start()).toContainEqual({ kind: 'buildBlock', height: 1, round: 0 })
    const out = m.handle({ kind: 'proposalBlock', height: 1, round: 0, blockHash: A.hash, block: A.block })
    expect(out).toEqual([
      { kind: 'broadcastProposal', proposal: { height: 1, round: 0, polRound: -1, blockHash: A.hash, block: A.block } },
    ])
  })

  it('skips to a higher round on votes from > 1/3 of the power', () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    const [i, j] = others(s) as [number, number]
    m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 3, null) })
    expect(m.round).toBe(0)
    const out = m.handle({ kind: 'vote', vote: vote(j, PRECOMMIT, 1, 3, null) })
    expect(m.round).toBe(3)
    expect(out).toContainEqual({
      kind: 'scheduleTimeout',
      timeout: { step: 'propose', height: 1, round: 3 },
      delayMs: 1000 + 500 * 3,
    })
  })

  it('commits from a later round’s precommits while still in round 0', () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
    m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    let commit: unknown
    for (const x of others(s)) {
      for (const a of m.handle({ kind: 'vote', vote: vote(x, PRECOMMIT, 1, 2, A.hash) }))
        if (a.kind === 'commit') commit = a
    }
    expect(commit).toMatchObject({ kind: 'commit', height: 1, round: 2, blockHash: A.hash })
    expect(m.height).toBe(2)
  })

  it('commits on a peer’s certificate (catch-up) once the block is valid', () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    const signatures = others(s).map((x) => ({
      validatorIndex: x,
      signature: vote(x, PRECOMMIT, 1, 4, A.hash).signature,
    }))
    const certificate = { height: 1, round: 4, blockHash: A.hash, signatures }
    // A certificate short of 2/3 does nothing; a full one asks to validate the block, then commits.
    const short = machine(s)
    short.start()
    short.handle({
      kind: 'certificate',
      certificate: { ...certificate, signatures: signatures.slice(0, 2) },
      block: A.block,
    })
    short.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    expect(short.height).toBe(1)
    expect(m.handle({ kind: 'certificate', certificate, block: A.block })).toContainEqual({
      kind: 'validateBlock',
      height: 1,
      blockHash: A.hash,
      block: A.block,
    })
    const out = m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    expect(out).toContainEqual(expect.objectContaining({ kind: 'commit', height: 1, round: 4, certificate }))
  })

  it('ignores a proposal not signed by the round’s proposer, and a block that does not match its hash', () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    const wrong = proposal(1, 1, A) // signed by round 1's proposer, offered as round 0's
    expect(m.handle({ kind: 'proposal', proposal: { ...wrong, round: 0 } })).toEqual([])
    const p = proposal(1, 0, A)
    expect(m.handle({ kind: 'proposal', proposal: { ...p, block: B.block } })).toEqual([])
  })

  it('turns two conflicting votes of one validator into evidence that verifies on its own', () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    const x = others(s)[0] as number
    m.handle({ kind: 'vote', vote: vote(x, PREVOTE, 1, 0, A.hash) })
    const out = m.handle({ kind: 'vote', vote: vote(x, PREVOTE, 1, 0, B.hash) })
    const ev = out.find((a) => a.kind === 'evidence')
    if (ev?.kind !== 'evidence') throw new TypeError('no evidence')
    expect(ev.evidence.validator).toEqual(SET.at(x)?.address)
    expect(() => verifyDuplicateVoteEvidence(ev.evidence, SET, CHAIN_ID)).not.toThrow()
    const decoded = decodeEvidence(encodeEvidence(ev.evidence), CHAIN_ID)
    expect(decoded).toEqual(ev.evidence)
    expect(() => verifyDuplicateVoteEvidence(ev.evidence, SET, CHAIN_ID + 1n)).toThrow(/not signed/)
  })

  it("hands the driver its proof-of-lock (an equivocator's conflicting prevote included) and a round's votes", () => {
    const s = nonProposer()
    const m = machine(s)
    m.start()
    expect(m.proofOfLock()).toEqual([])
    m.handle({ kind: 'proposal', proposal: proposal(1, 0, A) })
    m.handle({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    m.handle({ kind: 'vote', vote: vote(s, PREVOTE, 1, 0, A.hash) }) // its own, handed back
    const [i, j, k] = others(s) as [number, number, number]
    // k first prevotes nil, then (equivocating) A: its A prevote still counts towards A's tally.
    m.handle({ kind: 'vote', vote: vote(k, PREVOTE, 1, 0, null) })
    m.handle({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) })
    m.handle({ kind: 'vote', vote: vote(k, PREVOTE, 1, 0, A.hash) })
    expect(m.snapshot()).toMatchObject({ validRound: 0, validValue: A.hash })
    const pol = m.proofOfLock()
    expect(pol.map((v) => v.blockHash)).toEqual([A.hash, A.hash, A.hash])
    expect(pol).toContainEqual(vote(k, PREVOTE, 1, 0, A.hash))
    m.handle({ kind: 'vote', vote: vote(j, PRECOMMIT, 1, 0, null) })
    const round0 = m.votes(0)
    expect(round0).toHaveLength(4) // each validator's first prevote (s, i, k) and j's precommit
    expect(round0).toContainEqual(vote(k, PREVOTE, 1, 0, null))
    expect(round0).toContainEqual(vote(j, PRECOMMIT, 1, 0, null))
    expect(m.votes(1)).toEqual([])
  })

  it('accepts events of its height and the next only (what the driver logs in the WAL)', () => {
    const m = machine(0)
    m.start()
    expect(m.accepts({ kind: 'vote', vote: vote(1, PREVOTE, 1, 0, null) })).toBe(true)
    expect(m.accepts({ kind: 'vote', vote: vote(1, PREVOTE, 2, 0, null) })).toBe(true)
    expect(m.accepts({ kind: 'vote', vote: vote(1, PREVOTE, 3, 0, null) })).toBe(false)
    expect(m.accepts({ kind: 'timeout', timeout: { step: 'propose', height: 0, round: 0 } })).toBe(false)
    expect(m.accepts({ kind: 'proposal', proposal: proposal(1, 0, A) })).toBe(true)
  })

  it('gives the same actions for the same events (deterministic)', () => {
    const run = () => {
      const s = nonProposer()
      const m = lockedOnA(s)
      const out = [...m.start()]
      for (const x of others(s)) out.push(...m.handle({ kind: 'vote', vote: vote(x, PRECOMMIT, 1, 0, A.hash) }))
      return out
    }
    expect(run()).toEqual(run())
  })
})
