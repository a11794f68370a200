// The fork Cairn picks for a block is the one @ethereumjs's own geth-genesis Common picks
// (`createCommonFromGethGenesis` + `getHardforkBy` on a private Common), at and around every fork
// boundary of random schedules; the shared Commons are fixed to their fork.
import { Common, createCommonFromGethGenesis } from '@ethereumjs/common'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChainCommons, createChainCommon, ownCopy } from '../../src/rules/common.ts'
import { forkAt, parseForkSchedule } from '../../src/rules/fork-schedule.ts'

const BLOCK_KEYS = [
  'homesteadBlock',
  'eip150Block',
  'eip155Block',
  'byzantiumBlock',
  'constantinopleBlock',
  'petersburgBlock',
  'istanbulBlock',
  'muirGlacierBlock',
  'berlinBlock',
  'londonBlock',
  'arrowGlacierBlock',
  'grayGlacierBlock',
] as const
const TIME_KEYS = ['shanghaiTime', 'cancunTime', 'pragueTime', 'osakaTime', 'bpo1Time', 'bpo2Time'] as const

/** A geth config: block forks in order, the merge at `mergeNetsplitBlock`, then timestamp forks in order. */
const configArb = fc
  .record({
    blockSteps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 13, maxLength: 13 }),
    timeCount: fc.integer({ min: 0, max: TIME_KEYS.length }),
    timeSteps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: TIME_KEYS.length, maxLength: TIME_KEYS.length }),
    timeStart: fc.integer({ min: 1, max: 40 }),
  })
  .map(({ blockSteps, timeCount, timeSteps, timeStart }) => {
    const config: Record<string, unknown> = { chainId: 7, terminalTotalDifficulty: 1000 }
    let b = 0
    BLOCK_KEYS.forEach((k, i) => {
      b += blockSteps[i] as number
      config[k] = b
    })
    config['eip158Block'] = config['eip155Block']
    b += blockSteps[12] as number
    config['mergeNetsplitBlock'] = b
    let t = b * 10 + timeStart
    for (let i = 0; i < timeCount; i++) {
      t += (timeSteps[i] as number) * 10
      config[TIME_KEYS[i] as string] = t
    }
    return config
  })

/** Blocks at and around every boundary; block n has timestamp 10·n (+ a shift past a time fork). */
function probes(config: Record<string, unknown>): { n: number; t: number }[] {
  const out: { n: number; t: number }[] = []
  const merge = config['mergeNetsplitBlock'] as number
  for (const v of [...BLOCK_KEYS.map((k) => config[k] as number), merge]) {
    for (const n of [v - 1, v, v + 1]) if (n >= 0) out.push({ n, t: Math.min(10 * n, merge * 10) })
  }
  for (const k of TIME_KEYS) {
    const t = config[k] as number | undefined
    if (t === undefined) continue
    for (const dt of [-1, 0, 1]) out.push({ n: merge + 1 + Math.floor(t / 10), t: t + dt })
  }
  return out
}

describe('fork schedule', () => {
  it('picks the fork @ethereumjs picks at every boundary (geth config → getHardforkBy on a private Common)', () => {
    fc.assert(
      fc.property(configArb, (config) => {
        const genesis = { config, difficulty: '0x1', gasLimit: '0x1c9c380', nonce: '0x0', alloc: {}, timestamp: '0x0' }
        const reference = createCommonFromGethGenesis(genesis as never, {})
        const schedule = parseForkSchedule(config, 7n, [], 'test')
        const merge = config['mergeNetsplitBlock'] as number
        for (const { n, t } of probes(config)) {
          const theirs = reference.getHardforkBy({ blockNumber: BigInt(n), timestamp: BigInt(t) })
          const ours = forkAt(schedule, BigInt(n), BigInt(t), n >= merge)
          // @ethereumjs names the merge block's fork by its last entry at that block.
          expect({ n, t, fork: ours }).toEqual({ n, t, fork: theirs })
        }
      }),
      { numRuns: 200 },
    )
  })

  it('the shared Commons are fixed to their fork: switching one throws, an own copy switches', () => {
    const common = createChainCommon({ chainId: 1337n, hardfork: 'osaka' })
    expect(() => common.setHardfork('prague')).toThrow(/shared Common of osaka/)
    expect(() => common.setHardforkBy({ blockNumber: 0n, timestamp: 0n })).toThrow(/shared Common of osaka/)
    common.setHardfork('osaka') // the same fork: nothing changes (@ethereumjs's state managers do this)
    expect(common.hardfork()).toBe('osaka')
    const own = ownCopy(common)
    own.setHardfork('prague')
    expect(own.hardfork()).toBe('prague')
    expect(common.hardfork()).toBe('osaka')
    expect(common.copy()).toBe(common)
  })

  it('one shared Common per fork, each with the whole schedule and the blob schedule', () => {
    const config = {
      chainId: 7,
      terminalTotalDifficulty: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 100,
      osakaTime: 200,
      bpo1Time: 300,
      blobSchedule: {
        cancun: { target: 2, max: 4, baseFeeUpdateFraction: 1000 },
        prague: { target: 5, max: 7, baseFeeUpdateFraction: 2000 },
        osaka: { target: 5, max: 7, baseFeeUpdateFraction: 2000 },
        bpo1: { target: 11, max: 17, baseFeeUpdateFraction: 3000 },
      },
    }
    const commons = new ChainCommons(parseForkSchedule(config, 7n, [], 'test'))
    const at = (timestamp: bigint) => commons.at({ number: 1n, timestamp, difficulty: 0n })
    expect(at(99n).hardfork()).toBe('cancun')
    expect(at(100n).hardfork()).toBe('prague')
    expect(at(250n).hardfork()).toBe('osaka')
    expect(at(300n)).toBe(at(400n))
    expect(at(300n).hardfork()).toBe('bpo1')
    const blob = (t: bigint) => at(t).getBlobGasSchedule()
    expect(blob(0n)).toEqual({
      targetBlobGasPerBlock: 2n * 131072n,
      maxBlobGasPerBlock: 4n * 131072n,
      blobGasPriceUpdateFraction: 1000n,
    })
    expect(blob(150n).maxBlobGasPerBlock).toBe(7n * 131072n)
    expect(blob(300n)).toEqual({
      targetBlobGasPerBlock: 11n * 131072n,
      maxBlobGasPerBlock: 17n * 131072n,
      blobGasPriceUpdateFraction: 3000n,
    })
    expect(at(300n).hardforkTimestamp('prague')).toBe(100n)
    expect(Common.prototype.isActivatedEIP.call(at(250n), 7825)).toBe(true)
  })
})
