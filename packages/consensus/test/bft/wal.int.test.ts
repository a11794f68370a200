/** The consensus WAL on disk (a real temp directory): reopen, torn tails, corruption, truncation. */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type BftEvent, ConsensusWal } from '../../src/index.ts'
import { block, PRECOMMIT, PREVOTE, proposal, vote } from './fixture.ts'

const A = block('block A')
const EVENTS: BftEvent[] = [
  { kind: 'proposal', proposal: proposal(5, 0, A) },
  { kind: 'validity', height: 5, blockHash: A.hash, valid: true },
  { kind: 'vote', vote: vote(0, PREVOTE, 5, 0, A.hash) },
  { kind: 'vote', vote: vote(1, PRECOMMIT, 5, 0, null) },
  { kind: 'timeout', timeout: { step: 'precommit', height: 5, round: 0 } },
]

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-wal-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('ConsensusWal on disk', () => {
  it('survives a reopen: one segment per height, records in order, decided heights deleted', () => {
    const wal = ConsensusWal.open({ dir })
    for (const e of EVENTS) wal.append(e, { sync: e.kind === 'vote' })
    wal.append({ kind: 'vote', vote: vote(2, PREVOTE, 6, 0, null) })
    wal.close()
    expect(readdirSync(dir).sort()).toEqual(['000000000005.wal', '000000000006.wal'])
    const again = ConsensusWal.open({ dir })
    expect(again.replay(5)).toEqual(EVENTS)
    again.truncateBelow(6)
    expect(readdirSync(dir)).toEqual(['000000000006.wal'])
    expect(again.replay(6)).toHaveLength(1)
    again.close()
  })

  it('truncates a torn last record on open and appends after it', () => {
    const wal = ConsensusWal.open({ dir })
    for (const e of EVENTS) wal.append(e)
    wal.close()
    const file = join(dir, '000000000005.wal')
    const size = readFileSync(file).length
    truncateSync(file, size - 3)
    const again = ConsensusWal.open({ dir })
    expect(readFileSync(file).length).toBeLessThan(size - 3) // cut back to the last whole record
    expect(again.replay(5)).toEqual(EVENTS.slice(0, -1))
    again.append(EVENTS[4] as BftEvent)
    again.close()
    expect(ConsensusWal.open({ dir }).replay(5)).toEqual(EVENTS)
  })

  it('refuses a segment damaged before its last record, naming the height and offset', () => {
    const wal = ConsensusWal.open({ dir })
    for (const e of EVENTS) wal.append(e)
    wal.close()
    const file = join(dir, '000000000005.wal')
    const bytes = readFileSync(file)
    bytes[20] = (bytes[20] as number) ^ 0xff
    writeFileSync(file, bytes)
    expect(() => ConsensusWal.open({ dir })).toThrow(
      expect.objectContaining({
        code: 'CONSENSUS_BFT_WAL_CORRUPT',
        message: expect.stringMatching(/height 5: the record at byte 0/),
      }),
    )
  })

  it('a tail of zeros (the filesystem grew the file before the data landed) is a torn write; a damaged length is not', () => {
    const wal = ConsensusWal.open({ dir })
    wal.append(EVENTS[0] as BftEvent)
    wal.close()
    const file = join(dir, '000000000005.wal')
    const good = readFileSync(file)
    appendFileSync(file, new Uint8Array(40))
    expect(ConsensusWal.open({ dir }).replay(5)).toEqual([EVENTS[0]])
    expect(readFileSync(file)).toEqual(good)
    const bad = Buffer.concat([good, good])
    bad[1] = (bad[1] as number) ^ 1 // the first record's length
    writeFileSync(file, bad)
    expect(() => ConsensusWal.open({ dir })).toThrow(/has a damaged length/)
  })

  it('a garbage tail shorter than a header is a torn write', () => {
    const wal = ConsensusWal.open({ dir })
    wal.append(EVENTS[0] as BftEvent)
    wal.close()
    appendFileSync(join(dir, '000000000005.wal'), new Uint8Array([0, 0, 1]))
    const again = ConsensusWal.open({ dir })
    expect(again.replayDetailed(5)).toEqual({ events: [EVENTS[0]], truncatedTornRecord: false })
    again.close()
  })
})
