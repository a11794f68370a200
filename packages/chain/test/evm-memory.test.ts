// The EVM memory of this repository's @ethereumjs/evm patch (patches/: no store until a frame
// touches memory, then growth by doubling instead of 8 KiB steps) reads exactly as a flat
// zero-initialised memory: random writes, reads and extensions against a plain model; and a step
// event shows the charged words zero-filled when nothing was stored in them yet.
import { createEVM, Memory } from '@ethereumjs/evm'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createChainCommon } from '../src/common.ts'

const op = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    offset: fc.integer({ min: 0, max: 20_000 }),
    bytes: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  }),
  fc.record({
    kind: fc.constant('read' as const),
    offset: fc.integer({ min: 0, max: 20_000 }),
    size: fc.integer({ min: 0, max: 2_000 }),
  }),
  fc.record({
    kind: fc.constant('extend' as const),
    offset: fc.integer({ min: 0, max: 20_000 }),
    size: fc.integer({ min: 0, max: 2_000 }),
  }),
)

describe('patched EVM memory', () => {
  it('reads as a flat zeroed memory under random writes, reads and extensions', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const memory = new Memory()
        const model = new Uint8Array(24_000)
        for (const o of ops) {
          if (o.kind === 'write') {
            memory.write(o.offset, o.bytes.length, o.bytes)
            model.set(o.bytes, o.offset)
          } else if (o.kind === 'extend') {
            memory.extend(o.offset, o.size)
          } else {
            expect(memory.read(o.offset, o.size)).toEqual(model.slice(o.offset, o.offset + o.size))
            expect(memory.read(o.offset, o.size, true)).toEqual(model.slice(o.offset, o.offset + o.size))
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('a step event carries every charged word, zero-filled where nothing was stored', async () => {
    const evm = await createEVM({ common: createChainCommon({ chainId: 1337n, hardfork: 'prague' }) })
    // STATICCALL(gas, 0x04 identity, in 0/0, out 0x40/0x20) charges memory up to 0x60 and stores
    // nothing there (empty input, empty output); then STOP.
    const code = Uint8Array.from([0x60, 0x20, 0x60, 0x40, 0x60, 0, 0x60, 0, 0x60, 4, 0x5a, 0xfa, 0x00])
    const seen: { words: bigint; bytes: number }[] = []
    evm.events?.on('step', (step: { memoryWordCount: bigint; memory: Uint8Array }) => {
      seen.push({ words: step.memoryWordCount, bytes: step.memory.length })
    })
    const r = await evm.runCode({ code, gasLimit: 100_000n })
    expect(r.exceptionError).toBeUndefined()
    const last = seen[seen.length - 1]
    expect(last).toEqual({ words: 3n, bytes: 96 })
    for (const s of seen) expect(BigInt(s.bytes)).toBe(s.words * 32n)
  })
})
