// The header checks of a block-DAG engine (`ChainEngine.dagHeaders`, GhostDAG): a timestamp may
// equal its parent's (several chain blocks a second) and a proof-of-work header's extra data is
// the engine's to check (no 32-byte cap); without the flag, Ethereum's rules stand.
import { createBlockHeader } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { describe, expect, it } from 'vitest'
import { headerAgainstParent } from '../../src/import/validate.ts'

const common = new Common({ chain: Mainnet, hardfork: Hardfork.GrayGlacier })
const opts = { common, skipConsensusFormatValidation: true }
const parent = createBlockHeader(
  { number: 10n, timestamp: 100n, gasLimit: 30_000_000n, difficulty: 1000n, baseFeePerGas: 7n * 10n ** 9n },
  opts,
)
const child = (timestamp: bigint, extraData = new Uint8Array()) =>
  createBlockHeader(
    {
      number: 11n,
      timestamp,
      gasLimit: 30_000_000n,
      difficulty: 1000n,
      extraData,
      baseFeePerGas: parent.calcNextBaseFee(),
      parentHash: parent.hash(),
    },
    opts,
  )

describe('the header checks of a block-DAG engine', () => {
  it('an equal timestamp passes only with dagHeaders; an earlier one never', () => {
    expect(headerAgainstParent(child(100n), parent)).toMatch(/timestamp 100 is not after/)
    expect(headerAgainstParent(child(100n), parent, { dagHeaders: true })).toBeUndefined()
    expect(headerAgainstParent(child(99n), parent, { dagHeaders: true })).toMatch(/timestamp 99 is not after/)
    expect(headerAgainstParent(child(101n), parent)).toBeUndefined()
  })

  it('extra data above 32 bytes on a proof-of-work header passes only with dagHeaders', () => {
    const long = new Uint8Array(200).fill(1)
    expect(headerAgainstParent(child(101n, long), parent)).toMatch(/extra data is 200 bytes, more than 32/)
    expect(headerAgainstParent(child(101n, long), parent, { dagHeaders: true })).toBeUndefined()
  })
})
