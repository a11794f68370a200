// A proof-of-work chain's parameters from its genesis (config.cairn.pow): the defaults, overrides,
// each bad field refused with its name, and ASERT anchored at the genesis giving block 1 on
// schedule the genesis target.
import { isCairnError } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { nextAsertBits } from '../../src/pow/asert.ts'
import { targetFromBits } from '../../src/pow/compact-bits.ts'
import { PowErrorCode } from '../../src/pow/errors.ts'
import { DEFAULT_POW_CONFIG, genesisAnchor, parsePowConfig, powConfigJson } from '../../src/pow/params.ts'
import { DEFAULT_SEAL_PARAMS } from '../../src/pow/seal.ts'
import { workOf } from '../../src/pow/work.ts'

const genesis = (pow: unknown) => ({ config: { chainId: 1, cairn: { pow } } })

function refused(pow: unknown): { code?: string; message: string } {
  try {
    parsePowConfig(genesis(pow))
  } catch (err) {
    return { code: isCairnError(err) ? err.code : undefined, message: (err as Error).message }
  }
  return { message: 'accepted' }
}

describe('config.cairn.pow', () => {
  it('defaults every field: 12 s blocks, 288-block half-life, 4,096 attempts at genesis, 1 MiB seals', () => {
    const p = parsePowConfig(genesis(undefined))
    expect(p).toEqual(parsePowConfig({}))
    expect(p.asert).toEqual({ spacing: 12n, halfLife: 3456n, powLimit: targetFromBits(0x2000ffff) })
    expect(p.genesisBits).toBe(0x1f100000)
    expect(workOf(targetFromBits(p.genesisBits))).toBe(4095n) // 2^256 / (2^244 + 1)
    expect(workOf(p.asert.powLimit)).toBe(256n)
    expect(p.seal).toEqual(DEFAULT_SEAL_PARAMS)
    expect(powConfigJson(p)).toEqual({ ...DEFAULT_POW_CONFIG, seal: { ...DEFAULT_SEAL_PARAMS } })
  })

  it('takes every field, and writes them back as it read them', () => {
    const pow = {
      spacing: 600,
      halfLife: 172800,
      powLimit: '0x1d00ffff',
      genesisBits: '0x1c0fffff',
      blockReward: '3000000000000000000',
      seal: { memoryKiB: 2048, iterations: 2 },
    }
    const p = parsePowConfig(genesis(pow))
    expect(p.blockReward).toBe(3n * 10n ** 18n)
    expect(p.asert.spacing).toBe(600n)
    expect(p.seal).toEqual({ memoryKiB: 2048, iterations: 2 })
    expect(powConfigJson(p)).toEqual(pow)
  })

  it.each([
    [{ spacing: 0 }, PowErrorCode.INVALID_PARAMS, /spacing/],
    [{ halfLife: 1.5 }, PowErrorCode.INVALID_PARAMS, /halfLife/],
    [{ powLimit: '1d00ffff' }, PowErrorCode.INVALID_PARAMS, /powLimit: compact bits/],
    [{ seal: { memoryKiB: 32, iterations: 1 } }, PowErrorCode.INVALID_PARAMS, /seal\.memoryKiB/],
    [{ seal: { memoryKiB: 1024 } }, PowErrorCode.INVALID_PARAMS, /seal\.iterations/],
    [{ blockTime: 12 }, PowErrorCode.INVALID_PARAMS, /blockTime/],
    [{ genesisBits: '0x2100ffff' }, PowErrorCode.INVALID_BITS, /above the proof-of-work limit/],
    [{ powLimit: '0x1d80ffff' }, PowErrorCode.INVALID_BITS, /negative/],
  ])('refuses %j', (pow, code, message) => {
    const r = refused(pow)
    expect(r.code).toBe(code)
    expect(r.message).toMatch(message)
  })

  it('anchors ASERT at the genesis: block 1 on schedule gets the genesis target, late ones easier', () => {
    const p = parsePowConfig({})
    const anchor = genesisAnchor(p, { number: 0n, timestamp: 1_700_000_000n })
    expect(nextAsertBits(anchor, { height: 0n, time: 1_700_000_000n }, p.asert)).toBe(p.genesisBits)
    // block 2 after a block one half-life late: twice the target
    const late = nextAsertBits(anchor, { height: 1n, time: 1_700_000_012n + 3456n }, p.asert)
    expect(targetFromBits(late)).toBe(2n * targetFromBits(p.genesisBits))
  })
})
