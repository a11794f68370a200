// The jump-destination analysis kept per code and opcode table (jump-cache.ts) changes no result:
// random programs — jumps into and around PUSH data, PUSH0, Osaka's CLZ — give the same outcome
// on the first run (analysed), the second (cached), on a copy of the code in a fresh EVM, and on
// an EVM of another ruleset that sees the same code object.
import { createEVM } from '@ethereumjs/evm'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { installJumpDestCache } from '../../src/fast/jump-cache.ts'
import { createChainCommon } from '../../src/rules/common.ts'

beforeAll(async () => {
  // In place for the @ethereumjs/evm this repository locks: a new version that drops the method
  // makes this fail, so the cache is checked again rather than silently gone.
  expect(await installJumpDestCache()).toBe(true)
})

const op = fc.oneof(
  fc.constantFrom(0x5b, 0x56, 0x57, 0x5f, 0x1e, 0x01, 0x50, 0x80, 0x00, 0xfe, 0x15),
  fc.tuple(fc.constant(0x60), fc.integer({ min: 0, max: 80 })), // PUSH1 a nearby destination
  fc.tuple(fc.constant(0x61), fc.constant(0x5b), fc.constant(0x5b)), // PUSH2 hiding JUMPDESTs
)
const program = fc.array(op, { minLength: 1, maxLength: 60 }).map((ops) => Uint8Array.from(ops.flat()))

async function evm(hardfork: 'prague' | 'osaka') {
  return createEVM({ common: createChainCommon({ chainId: 1337n, hardfork }) })
}

async function outcome(e: Awaited<ReturnType<typeof evm>>, code: Uint8Array): Promise<string> {
  const r = await e.runCode({ code, gasLimit: 100_000n })
  return `${r.exceptionError?.error ?? 'ok'} ${r.executionGasUsed} ${Buffer.from(r.returnValue).toString('hex')}`
}

describe('jump-destination cache', () => {
  it('gives the same outcomes as a fresh analysis, on every ruleset sharing the code object', async () => {
    const prague = await evm('prague')
    const osaka = await evm('osaka')
    await fc.assert(
      fc.asyncProperty(program, async (code) => {
        const first = await outcome(prague, code)
        expect(await outcome(prague, code)).toBe(first)
        expect(await outcome(await evm('prague'), Uint8Array.from(code))).toBe(first)
        // Osaka's table differs (CLZ): the same code object must not reuse Prague's analysis.
        expect(await outcome(osaka, code)).toBe(await outcome(await evm('osaka'), Uint8Array.from(code)))
      }),
      { numRuns: 300 },
    )
  })

  it('keeps one analysis per ruleset: CLZ after a jump fails on Prague and runs on Osaka, same code object', async () => {
    // PUSH1 4, JUMP, INVALID, JUMPDEST, PUSH1 1, CLZ, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN
    const code = Uint8Array.from([0x60, 4, 0x56, 0xfe, 0x5b, 0x60, 1, 0x1e, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3])
    const prague = await outcome(await evm('prague'), code)
    const osaka = await outcome(await evm('osaka'), code)
    expect(prague).toMatch(/^invalid opcode/)
    expect(osaka).toMatch(/^ok .* 0{62}ff$/) // clz(1) = 255
  })
})
