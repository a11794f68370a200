// The quarantine of cycles and tokens whose simulations revert in the path (unit tier): a
// model-based property for cycles (sit-out doubling from 2 blocks to the cap, reset by a success),
// a token quarantined only on evidence against it (never for sharing failing cycles), never the
// base token, and which reverts count as the path's.
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Address } from '../src/graph/token-graph.ts'
import { isPathRevert, Quarantine } from '../src/risk/quarantine.ts'

const tok = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address
/** A cycle as the graph has it: the base token (0) first and last. */
const cycle = (key: string, ...tokens: number[]) => ({ key, tokens: [tok(0), ...tokens.map(tok), tok(0)] })

describe('Quarantine', () => {
  it('a cycle sits out min(first·2^(k−1), max) blocks after its k-th failure in a row; a success clears it (model)', () => {
    const op = fc.record({
      gap: fc.integer({ min: 0, max: 40 }),
      cycle: fc.integer({ min: 0, max: 2 }),
      ok: fc.boolean(),
    })
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 4, max: 64 }),
        fc.array(op, { maxLength: 60 }),
        (first, max, ops) => {
          const q = new Quarantine({ firstBlocks: first, maxBlocks: max }, { logger: silentLogger })
          const model = new Map<number, { strikes: number; until: number }>()
          let block = 0
          for (const o of ops) {
            block += o.gap
            // every cycle's standing agrees with the model before the event
            for (let c = 0; c <= 2; c++) {
              const m = model.get(c)
              const blocked = m !== undefined && block < m.until
              expect(q.blocked(cycle(`c${c}`, c + 1), BigInt(block)) !== null).toBe(blocked)
            }
            const cy = cycle(`c${o.cycle}`, o.cycle + 1)
            if (o.ok) {
              q.succeeded(cy, BigInt(block))
              model.delete(o.cycle)
            } else {
              q.failed(cy, BigInt(block), 'InsufficientProfit')
              const strikes = (model.get(o.cycle)?.strikes ?? 0) + 1
              model.set(o.cycle, { strikes, until: block + Math.min(first * 2 ** (strikes - 1), max) })
            }
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('blames a token only on evidence against it: at once, with every cycle through it; never for sharing failing cycles; a success through it clears it', () => {
    const q = new Quarantine({}, { logger: silentLogger })
    const honey = 7
    const innocent = 3
    // many cycles through an innocent token fail without evidence against it: only they sit out
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries())
      q.failed(cycle(k, innocent, honey + i), 10n, 'hop 1 (pair 0x…) reverted: UniswapV2: K')
    expect(q.list(10n).filter((x) => x.kind === 'token')).toEqual([])
    expect(q.blocked(cycle('fresh', innocent, 9), 10n)).toBeNull()
    // the revert names the honeypot: it sits out at once, and so does a cycle never tried through it
    q.failed(cycle('e', innocent, honey), 10n, 'token refused', tok(honey))
    expect(q.blocked(cycle('fresh', 5, honey), 11n)).toMatch(
      new RegExp(`token ${tok(honey)} quarantined until block 12`),
    )
    expect(q.list(11n).filter((x) => x.kind === 'token')).toMatchObject([{ key: tok(honey), strikes: 1, until: 12n }])
    expect(q.blocked(cycle('fresh2', innocent, 4), 11n)).toBeNull()
    // the same evidence while it sits out does not lengthen it; after, it doubles
    q.failed(cycle('f', honey), 11n, 'token refused', tok(honey))
    expect(q.list(11n).filter((x) => x.kind === 'token')).toMatchObject([{ strikes: 1, until: 12n }])
    q.failed(cycle('g', honey), 12n, 'token refused', tok(honey))
    expect(q.list(12n).filter((x) => x.kind === 'token')).toMatchObject([{ strikes: 2, until: 16n }])
    // the base token is never blamed, nor a token not on the cycle
    q.failed(cycle('h', 4), 12n, 'token refused', tok(0))
    q.failed(cycle('i', 4), 12n, 'token refused', tok(99))
    expect(
      q
        .list(12n)
        .filter((x) => x.kind === 'token')
        .map((x) => x.key),
    ).toEqual([tok(honey)])
    // a cycle through it that went through (its simulation succeeded) clears the token
    q.succeeded(cycle('j', honey), 13n)
    expect(q.blocked(cycle('fresh', 5, honey), 13n)).toBeNull()
  })

  it('logs name the quarantined token and the pools (the logger redacts a key named token)', () => {
    const lines: Record<string, unknown>[] = []
    const logger = { warn: (o: Record<string, unknown>) => void lines.push(o) } as never
    const q = new Quarantine({}, { logger })
    q.failed({ key: '0xp1>0xp2', tokens: [tok(0), tok(7), tok(0)] }, 5n, 'token refused', tok(7))
    expect(lines[0]).toMatchObject({ cycle: '0xp1>0xp2', pools: ['0xp1', '0xp2'] })
    expect(lines[1]).toMatchObject({ tokenAddress: tok(7), cycle: '0xp1>0xp2' })
    expect(Object.keys(lines[1]!)).not.toContain('token')
  })

  it('remembers at most maxEntries cycles (the least recently failed go first)', () => {
    const q = new Quarantine({ maxEntries: 2 }, { logger: silentLogger })
    for (const k of ['a', 'b', 'c']) q.failed(cycle(k, 1), 0n, 'InsufficientProfit')
    expect(q.list(0n).map((x) => x.key)).toEqual(['c', 'b'])
  })

  it('counts reverts in the path, not the executor refusing or a failure that is no revert', () => {
    for (const r of ['InsufficientProfit', 'HopOutputTooLow', 'TransferFailed', 'UniswapV2: K', 'revert'])
      expect(isPathRevert(r)).toBe(true)
    for (const r of ['NotOwner', 'BadPath', 'UnexpectedCallback', undefined]) expect(isPathRevert(r)).toBe(false)
  })
})
