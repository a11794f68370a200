/** The consensus WAL in memory: the record format, torn tails, corruption, and a restart's replay. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type BftAction,
  type BftEvent,
  ConsensusWal,
  decodeWalEvent,
  encodeWalEvent,
  frameWalRecord,
  MemoryWalStorage,
  parseWalSegment,
  Step,
} from '../../src/index.ts'
import { block, machine, nonProposer, others, PRECOMMIT, PREVOTE, proposal, vote } from './fixture.ts'

const A = block('block A')

const EVENTS: BftEvent[] = [
  { kind: 'proposal', proposal: proposal(1, 0, A) },
  { kind: 'proposal', proposal: proposal(1, 2, A, 1) },
  { kind: 'vote', vote: vote(0, PREVOTE, 1, 0, A.hash) },
  { kind: 'vote', vote: vote(1, PRECOMMIT, 1, 3, null) },
  { kind: 'timeout', timeout: { step: 'propose', height: 1, round: 0 } },
  { kind: 'timeout', timeout: { step: 'commit', height: 2, round: 0 } },
  { kind: 'validity', height: 1, blockHash: A.hash, valid: true },
  { kind: 'validity', height: 1, blockHash: A.hash, valid: false },
  { kind: 'proposalBlock', height: 1, round: 4, blockHash: A.hash, block: A.block },
  {
    kind: 'certificate',
    certificate: {
      height: 1,
      round: 0,
      blockHash: A.hash,
      signatures: [{ validatorIndex: 2, signature: vote(2, PRECOMMIT, 1, 0, A.hash).signature }],
    },
    block: A.block,
  },
]

describe('ConsensusWal', () => {
  it('encodes and decodes every kind of event', () => {
    for (const e of EVENTS) expect(decodeWalEvent(encodeWalEvent(e))).toEqual(e)
  })

  it('replays a height in order, keeps the next height apart, and drops decided heights', () => {
    const wal = ConsensusWal.inMemory()
    for (const e of EVENTS) wal.append(e)
    const next: BftEvent = { kind: 'vote', vote: vote(3, PREVOTE, 2, 0, null) }
    wal.append(next, { sync: true })
    expect(wal.heights()).toEqual([1, 2])
    expect(wal.replay(1)).toEqual(EVENTS.filter((e) => !(e.kind === 'timeout' && e.timeout.height === 2)))
    expect(wal.replay(2)).toEqual([{ kind: 'timeout', timeout: { step: 'commit', height: 2, round: 0 } }, next])
    wal.truncateBelow(2)
    expect(wal.heights()).toEqual([2])
    expect(wal.replay(1)).toEqual([])
  })

  it('cuts off a torn last record (a crash mid-append) and goes on appending after it', () => {
    for (let cut = 1; cut < 16; cut++) {
      const storage = new MemoryWalStorage()
      const wal = ConsensusWal.inMemory(storage)
      for (const e of EVENTS.slice(0, 4)) wal.append(e)
      storage.tear(cut)
      const reopened = ConsensusWal.inMemory(storage)
      expect(reopened.replay(1)).toEqual(EVENTS.slice(0, 3))
      reopened.append(EVENTS[6] as BftEvent)
      expect(reopened.replayDetailed(1)).toEqual({
        events: [...EVENTS.slice(0, 3), EVENTS[6]],
        truncatedTornRecord: false,
      })
    }
  })

  it('property: a crash at any byte of the last append loses that record only; damage at any earlier byte is refused', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: EVENTS.length - 1 }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        (picks, cutSeed, flipSeed) => {
          const events = picks
            .map((i) => EVENTS[i] as BftEvent)
            .filter((e) => e.kind !== 'timeout' || e.timeout.height === 1)
          if (events.length === 0) return
          const storage = new MemoryWalStorage()
          const wal = ConsensusWal.inMemory(storage)
          for (const e of events) wal.append(e)
          const whole = storage.read(1)
          const last = frameWalRecord(encodeWalEvent(events.at(-1) as BftEvent)).length
          // Torn: 1 .. last-1 bytes of the last record made it to disk.
          storage.tear(1 + (cutSeed % (last - 1)))
          expect(ConsensusWal.inMemory(storage).replay(1)).toEqual(events.slice(0, -1))
          // Damaged: a byte flipped inside a record that is not the last.
          if (whole.length > last) {
            const bad = whole.slice()
            const at = flipSeed % (whole.length - last)
            bad[at] = (bad[at] as number) ^ 0x55
            const damaged = new MemoryWalStorage()
            damaged.append(1, bad)
            // Length, its checksum, the payload's checksum or the payload: always refused as damage.
            expect(() => ConsensusWal.inMemory(damaged)).toThrow(
              expect.objectContaining({ code: 'CONSENSUS_BFT_WAL_CORRUPT' }),
            )
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('treats a last record failing its checksum as torn, and refuses a damaged record before the last', () => {
    const a = frameWalRecord(encodeWalEvent(EVENTS[2] as BftEvent))
    const b = frameWalRecord(encodeWalEvent(EVENTS[3] as BftEvent))
    const lastBad = Buffer.concat([a, b])
    lastBad[lastBad.length - 1] = (lastBad[lastBad.length - 1] as number) ^ 1
    expect(parseWalSegment(lastBad, 't')).toMatchObject({ validLength: a.length, torn: true })
    const firstBad = Buffer.concat([a, b])
    firstBad[a.length - 1] = (firstBad[a.length - 1] as number) ^ 1
    expect(() => parseWalSegment(firstBad, 't')).toThrow(expect.objectContaining({ code: 'CONSENSUS_BFT_WAL_CORRUPT' }))
    const storage = new MemoryWalStorage()
    storage.append(1, firstBad)
    expect(() => ConsensusWal.inMemory(storage)).toThrow(/fails its checksum and is not a write torn by a crash/)
  })

  it('a restarted validator replays its WAL into a fresh machine: same round, step and lock, and it re-signs nothing new', () => {
    const s = nonProposer()
    const wal = ConsensusWal.inMemory()
    const m = machine(s)
    const signed: BftAction[] = []
    const feed = (e: BftEvent): void => {
      wal.append(e)
      for (const a of m.handle(e)) if (a.kind === 'broadcastVote') signed.push(a)
    }
    m.start()
    feed({ kind: 'proposal', proposal: proposal(1, 0, A) })
    feed({ kind: 'validity', height: 1, blockHash: A.hash, valid: true })
    for (const i of others(s)) feed({ kind: 'vote', vote: vote(i, PREVOTE, 1, 0, A.hash) })
    // Round 0 ends without a decision: precommits for nil from the others, then the timeout.
    for (const i of others(s)) feed({ kind: 'vote', vote: vote(i, PRECOMMIT, 1, 0, null) })
    feed({ kind: 'timeout', timeout: { step: 'precommit', height: 1, round: 0 } })
    const before = m.snapshot()
    expect(before).toMatchObject({ round: 1, step: Step.PROPOSE, lockedRound: 0, lockedValue: A.hash })

    const restarted = machine(s)
    const replayed: BftAction[] = [...restarted.start()]
    for (const e of wal.replay(1)) replayed.push(...restarted.handle(e))
    expect(restarted.snapshot()).toEqual(before)
    // The votes it casts again are the very ones it cast before (the signer state answers "again").
    expect(replayed.filter((a) => a.kind === 'broadcastVote')).toEqual(signed)
  })
})
