import { describe, expect, it } from 'vitest'
import {
  DAG_HEADER_VERSION,
  decodeDagHeaderExtra,
  encodeDagHeaderExtra,
  GhostdagErrorCode,
  headerTimeMs,
  isGhostdagGenesis,
  kaspaLimits,
  parseGhostdagConfig,
} from '../../src/ghostdag/index.ts'

const h = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const

describe('the GhostDAG engine header extra data (0xdb: millis and extra parents)', () => {
  it('round-trips the milliseconds and the parents, sorted, in one byte form', () => {
    for (const millis of [0, 1, 255, 256, 999]) {
      const bytes = encodeDagHeaderExtra({ millis, extraParents: [h(3), h(1), h(2)] })
      expect(bytes[0]).toBe(DAG_HEADER_VERSION)
      expect(decodeDagHeaderExtra(bytes)).toEqual({ millis, extraParents: [h(1), h(2), h(3)] })
    }
    // No extra parent still carries the milliseconds.
    expect(decodeDagHeaderExtra(encodeDagHeaderExtra({ millis: 7, extraParents: [] }))).toEqual({
      millis: 7,
      extraParents: [],
    })
    const extraData = encodeDagHeaderExtra({ millis: 250, extraParents: [] })
    expect(headerTimeMs({ timestamp: 1_700_000_000n, extraData })).toBe(1_700_000_000_250n)
  })

  it('refuses another version, millis above 999, unsorted or repeated parents, a non-minimal integer', () => {
    const code = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        return (err as { code: string }).code
      }
      return 'none'
    }
    expect(code(() => decodeDagHeaderExtra(new Uint8Array()))).toBe(GhostdagErrorCode.INVALID_HEADER)
    expect(code(() => decodeDagHeaderExtra(Uint8Array.of(0xda, 0xc0)))).toBe(GhostdagErrorCode.INVALID_HEADER)
    expect(code(() => encodeDagHeaderExtra({ millis: 1000, extraParents: [] }))).toBe(GhostdagErrorCode.INVALID_HEADER)
    expect(code(() => encodeDagHeaderExtra({ millis: 1, extraParents: [h(1), h(1)] }))).toBe(
      GhostdagErrorCode.INVALID_HEADER,
    )
    const good = encodeDagHeaderExtra({ millis: 1, extraParents: [h(1), h(2)] })
    // Swap the two parents in place: no longer ascending.
    const swapped = Uint8Array.from(good)
    const at = swapped.length - 64
    swapped.set(good.subarray(at + 32, at + 64), at)
    swapped.set(good.subarray(at, at + 32), at + 32)
    expect(code(() => decodeDagHeaderExtra(swapped))).toBe(GhostdagErrorCode.INVALID_HEADER)
    // millis 5 as two bytes 0x0005 (RLP 0x82 0x00 0x05): not minimal.
    expect(code(() => decodeDagHeaderExtra(Uint8Array.of(0xdb, 0xc4, 0x82, 0x00, 0x05, 0xc0)))).toBe(
      GhostdagErrorCode.INVALID_HEADER,
    )
  })

  it('reads config.cairn.ghostdag with Kaspa’s derived limits, and refuses a bad field by name', () => {
    const genesis = { config: { cairn: { pow: {}, ghostdag: { k: 31, targetBlockMs: 500 } } } }
    expect(isGhostdagGenesis(genesis)).toBe(true)
    expect(isGhostdagGenesis({ config: { cairn: { pow: {} } } })).toBe(false)
    const p = parseGhostdagConfig(genesis)
    expect(p.k).toBe(31)
    expect(p.maxParents).toBe(kaspaLimits(31).maxParents)
    expect(p.mergesetSizeLimit).toBe(kaspaLimits(31).mergesetSizeLimit)
    expect(p.targetBlockMs).toBe(500n)
    expect(p.halfLifeMs).toBe(150_000n)
    expect(() => parseGhostdagConfig({ config: { cairn: { ghostdag: { k: 0 } } } })).toThrow(
      /config\.cairn\.ghostdag: k/,
    )
  })
})
