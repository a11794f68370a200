// The header checks with an engine's base fee floor (`ChainEngine.baseFeeFloor`: governance's
// minimum base fee): without it a base fee must be EIP-1559's exactly; with it, at least that
// (the engine checks the exact value with the parent's state), never below.
import { createBlockHeader } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { headerAgainstParent } from '../../src/import/validate.ts'

const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun })
const parent = createBlockHeader(
  { number: 10n, timestamp: 100n, gasLimit: 30_000_000n, gasUsed: 12_000_000n, baseFeePerGas: 7n * 10n ** 9n },
  { common },
)
const child = (baseFeePerGas: bigint) =>
  createBlockHeader(
    { number: 11n, timestamp: 101n, gasLimit: 30_000_000n, baseFeePerGas, parentHash: parent.hash() },
    { common },
  )

describe('the base fee rule of the header checks', () => {
  const eip1559 = parent.calcNextBaseFee()

  it("EIP-1559's base fee passes either way; without a floor, any other is refused", () => {
    expect(headerAgainstParent(child(eip1559), parent)).toBeUndefined()
    expect(headerAgainstParent(child(eip1559), parent, { baseFeeFloor: true })).toBeUndefined()
    expect(headerAgainstParent(child(eip1559 + 1n), parent)).toMatch(/base fee .* is not the expected/)
  })

  it('with a floor: any base fee at or above EIP-1559 passes, any below is refused', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 12n }), (fee) => {
        const why = headerAgainstParent(child(fee), parent, { baseFeeFloor: true })
        if (fee >= eip1559) expect(why).toBeUndefined()
        else expect(why).toMatch(new RegExp(`base fee ${fee} is below EIP-1559's ${eip1559}`))
      }),
      { numRuns: 200 },
    )
  })
})
