// Intrinsic gas is remembered per call shape (exec.ts shapeKey): creation or not, ruleset, input
// length, zero bytes, access list. The property: any two inputs with the same key cost the same
// intrinsic and minimum gas by @ethereumjs/tx's own rules, on every ruleset the chain runs.
import { createChainCommon } from '@cairn/chain'
import { createTx } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { shapeKey } from '../src/exec.ts'
import type { CallRequest } from '../src/schemas.ts'

const TO = new Address(new Uint8Array(20).fill(0x11))
const byte = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }))
const input = fc.array(byte, { maxLength: 300 }).map((a) => Uint8Array.from(a))
const accessList = fc.option(
  fc.constant([{ address: `0x${'22'.repeat(20)}` as const, storageKeys: [`0x${'00'.repeat(32)}` as const] }]),
  { nil: undefined },
)

function gasOf(hardfork: 'prague' | 'osaka', to: Address | undefined, data: Uint8Array, list: unknown) {
  const tx = createTx(
    { ...(to ? { to } : {}), data, gasLimit: 0n, ...(list ? { accessList: list, type: 1 } : {}) } as never,
    { common: createChainCommon({ chainId: 1337n, hardfork }) },
  )
  return { intrinsic: tx.getIntrinsicGas(), minimum: tx.getMinimumGasLimit() }
}

describe('call shape key', () => {
  it('inputs with the same key cost the same intrinsic and minimum gas', () => {
    fc.assert(
      fc.property(
        input,
        fc.boolean(),
        accessList,
        fc.constantFrom('prague' as const, 'osaka' as const),
        fc.infiniteStream(fc.nat()),
        (data, create, list, hardfork, rnd) => {
          const to = create ? undefined : TO
          // The same bytes in another order: same length, same zero count, same key.
          const shuffled = Uint8Array.from(data)
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (rnd.next().value as number) % (i + 1)
            ;[shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number]
          }
          const req = (list ? { accessList: list } : {}) as CallRequest
          expect(shapeKey(req, to, shuffled, hardfork)).toBe(shapeKey(req, to, data, hardfork))
          expect(gasOf(hardfork, to, shuffled, list)).toEqual(gasOf(hardfork, to, data, list))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('differs when anything the gas depends on differs', () => {
    const req = {} as CallRequest
    const k = shapeKey(req, TO, Uint8Array.from([1, 0, 2]), 'prague')
    expect(shapeKey(req, undefined, Uint8Array.from([1, 0, 2]), 'prague')).not.toBe(k)
    expect(shapeKey(req, TO, Uint8Array.from([1, 0, 2]), 'osaka')).not.toBe(k)
    expect(shapeKey(req, TO, Uint8Array.from([1, 0, 2, 3]), 'prague')).not.toBe(k)
    expect(shapeKey(req, TO, Uint8Array.from([1, 0, 0]), 'prague')).not.toBe(k)
    expect(shapeKey({ accessList: [] } as unknown as CallRequest, TO, Uint8Array.from([1, 0, 2]), 'prague')).not.toBe(k)
  })
})
