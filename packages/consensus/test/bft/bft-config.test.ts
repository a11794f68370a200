/** `config.cairn.bft`: the dev/test path that schedules validator-set changes in the genesis. */
import { describe, expect, it } from 'vitest'
import { parseBftConfig, ValidatorSchedule } from '../../src/index.ts'

const A = `0x${'aa'.repeat(20)}`
const B = `0x${'bb'.repeat(20)}`
const C = `0x${'cc'.repeat(20)}`
const genesis = (bft: Record<string, unknown>) => ({ config: { cairn: { bft } } })

describe('config.cairn.bft.validatorChanges', () => {
  it('groups changes by height of effect; the schedule applies them there', () => {
    const config = parseBftConfig(
      genesis({
        validators: [
          { address: A, power: 10 },
          { address: B, power: 10 },
        ],
        validatorChanges: [
          { height: 5, address: C, power: 10 },
          { height: 9, address: A, power: 0 },
          { height: 9, address: B, power: '0x20' },
        ],
      }),
    )
    expect([...(config.validatorChanges?.keys() ?? [])]).toEqual([5, 9])
    const s = new ValidatorSchedule(config.validators, config.validatorChanges)
    expect(s.at(4).size).toBe(2)
    expect(s.at(5).size).toBe(3)
    expect(s.at(9).validators.map((v) => v.votingPower)).toEqual([32n, 10n])
  })

  it('is optional, and refuses heights below 3 and negative powers', () => {
    expect(parseBftConfig(genesis({ validators: [{ address: A }] })).validatorChanges).toBeUndefined()
    const bad = (c: unknown) => () => parseBftConfig(genesis({ validators: [{ address: A }], validatorChanges: [c] }))
    expect(bad({ height: 2, address: B, power: 1 })).toThrow(/height/)
    expect(bad({ height: 3, address: B, power: -1 })).toThrow(/power/)
  })
})
