// The chain's Common answers isActivatedEIP by set lookup: the same answers as @ethereumjs's
// array scan, for every supported hardfork, after the hardfork or the EIPs change, and in copies.
import { Common } from '@ethereumjs/common'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createChainCommon, ownCopy, SUPPORTED_HARDFORKS } from '../../src/rules/common.ts'

const reference = (c: Common, eip: number) => Common.prototype.isActivatedEIP.call(c, eip)
const EIPS = Array.from({ length: 8000 }, (_, i) => i)

describe('createChainCommon: isActivatedEIP', () => {
  it('agrees with @ethereumjs on every EIP number, for each hardfork, after changes and in copies', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SUPPORTED_HARDFORKS),
        fc.constantFrom(...SUPPORTED_HARDFORKS, 'shanghai', 'london'),
        fc.subarray([1153, 2537, 2935, 3074, 4844, 5656, 6110, 7002, 7251, 7623, 7685, 7702]),
        (hardfork, next, eips) => {
          const common = createChainCommon({ chainId: 1337n, hardfork })
          const check = (c: Common) => {
            for (const eip of EIPS) if (c.isActivatedEIP(eip) !== reference(c, eip)) return eip
            return undefined
          }
          expect(check(common)).toBeUndefined()
          const copy = ownCopy(common)
          expect(check(copy)).toBeUndefined()
          copy.setHardfork(next)
          expect(check(copy)).toBeUndefined()
          try {
            copy.setEIPs(eips)
          } catch {
            return // an EIP set @ethereumjs refuses (a missing required EIP)
          }
          expect(check(copy)).toBeUndefined()
          expect(check(common)).toBeUndefined() // the original is untouched by its copy's changes
        },
      ),
      { numRuns: 40 },
    )
  })
})
