// The quarantine of cycles and tokens whose simulations revert in the path (unit tier): a
// model-based property for cycles (sit-out doubling from 2 blocks to the cap, reset by a success),
// tokens quarantined after 3 distinct failing cycles and again at once, never the base token,
// and which reverts count as the path's.
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
          // tokenAfter high: only cycle quarantines here
          const q = new Quarantine({ firstBlocks: first, maxBlocks: max, tokenAfter: 1000 }, { logger: silentLogger })
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

  it('a token in 3 distinct failing cycles is quarantined with every cycle through it; again at once after; a success through it clears it', () => {
    const q = new Quarantine({}, { logger: silentLogger })
    const honey = 7
    q.failed(cycle('a', honey), 10n, 'UniswapV2: TRANSFER_FAILED')
    q.failed(cycle('a', honey), 12n, 'UniswapV2: TRANSFER_FAILED') // the same cycle again: still one
    q.failed(cycle('b', 3, honey), 12n, 'UniswapV2: TRANSFER_FAILED')
    expect(q.blocked(cycle('fresh', honey, 4), 12n)).toBeNull()
    q.failed(cycle('c', honey, 4), 13n, 'UniswapV2: TRANSFER_FAILED')
    // the third distinct cycle: the token sits out 2 blocks, and so does a cycle never tried
    expect(q.blocked(cycle('fresh', 5, honey), 14n)).toMatch(
      new RegExp(`token ${tok(honey)} quarantined until block 15`),
    )
    expect(q.list(14n).filter((x) => x.kind === 'token')).toMatchObject([{ key: tok(honey), strikes: 1, until: 15n }])
    // tokens seen in fewer failing cycles are not
    expect(q.blocked(cycle('other', 3), 14n)).toBeNull()
    // the base token is in every cycle and never blamed
    expect(q.list(14n).some((x) => x.key === tok(0))).toBe(false)
    // after the sit-out, one more failure through it quarantines it again at once, for twice as long
    expect(q.blocked(cycle('fresh', 5, honey), 15n)).toBeNull()
    q.failed(cycle('d', honey, 6), 15n, 'UniswapV2: TRANSFER_FAILED')
    expect(q.list(15n).filter((x) => x.kind === 'token')).toMatchObject([{ strikes: 2, until: 19n }])
    // a cycle through it that went through (its simulation succeeded) clears the token
    q.succeeded(cycle('e', honey), 16n)
    expect(q.blocked(cycle('fresh', 5, honey), 16n)).toBeNull()
    q.failed(cycle('f', honey, 8), 17n, 'InsufficientProfit')
    expect(q.list(17n).filter((x) => x.kind === 'token')).toEqual([])
  })

  it('remembers at most maxEntries cycles (the least recently failed go first)', () => {
    const q = new Quarantine({ maxEntries: 2, tokenAfter: 1000 }, { logger: silentLogger })
    for (const k of ['a', 'b', 'c']) q.failed(cycle(k, 1), 0n, 'InsufficientProfit')
    expect(q.list(0n).map((x) => x.key)).toEqual(['c', 'b'])
  })

  it('counts reverts in the path, not the executor refusing or a failure that is no revert', () => {
    for (const r of ['InsufficientProfit', 'HopOutputTooLow', 'TransferFailed', 'UniswapV2: K', 'revert'])
      expect(isPathRevert(r)).toBe(true)
    for (const r of ['NotOwner', 'BadPath', 'UnexpectedCallback', undefined]) expect(isPathRevert(r)).toBe(false)
  })
})
