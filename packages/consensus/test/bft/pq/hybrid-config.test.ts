/**
 * The hybrid scheme at the edges of the engine: the genesis's `signatureScheme` and validators'
 * `pqPublicKey` (parsed, checked, refused with a reason), a set's keys across updates, and
 * validator changes that would bring a validator in without an ML-DSA key (left out, logged).
 */
import { bytesToHex } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { admitValidatorChanges } from '../../../src/bft/pq/index.ts'
import { parseBftConfig, ValidatorSchedule, ValidatorSet } from '../../../src/index.ts'
import { HYBRID_KEYS, MLDSA_KEYS } from './pq-fixture.ts'

const hex = (b: Uint8Array) => bytesToHex(b)
const genesisWith = (bft: Record<string, unknown>) => ({ config: { cairn: { bft } } })
const hybridValidators = () =>
  HYBRID_KEYS.map((k) => ({ address: hex(k.address), power: 1, pqPublicKey: hex(k.pqPublicKey as Uint8Array) }))
const members = () =>
  HYBRID_KEYS.map((k) => ({ address: k.address, votingPower: 1n, pqPublicKey: k.pqPublicKey as Uint8Array }))

describe('config.cairn.bft.signatureScheme', () => {
  it('defaults to secp256k1 (unchanged chains) and parses hybrid with each validator key', () => {
    const plain = parseBftConfig(genesisWith({ validators: [{ address: hex(HYBRID_KEYS[0]?.address as Uint8Array) }] }))
    expect(plain.signatureScheme).toBeUndefined()
    const hybrid = parseBftConfig(genesisWith({ signatureScheme: 'hybrid', validators: hybridValidators() }))
    expect(hybrid.signatureScheme).toBe('hybrid')
    expect(hybrid.validators.map((v) => v.pqPublicKey?.length)).toEqual([1952, 1952, 1952, 1952])
    const schedule = new ValidatorSchedule(hybrid.validators, undefined, 'hybrid')
    expect(schedule.scheme).toBe('hybrid')
    expect(schedule.at(7).pqKeyOf(HYBRID_KEYS[2]?.address as Uint8Array)).toEqual(HYBRID_KEYS[2]?.pqPublicKey)
  })

  it('accepts hybrid or ml-dsa-65 with staking; refuses a missing or short key, and a key under secp256k1', () => {
    const parse = (bft: Record<string, unknown>) => () => parseBftConfig(genesisWith(bft))
    // With staking the keys are in the staking contract (read by resolveBftConfig).
    expect(parseBftConfig(genesisWith({ signatureScheme: 'hybrid', staking: true }))).toMatchObject({
      staking: true,
      signatureScheme: 'hybrid',
    })
    expect(parseBftConfig(genesisWith({ signatureScheme: 'ml-dsa-65', staking: true })).signatureScheme).toBe(
      'ml-dsa-65',
    )
    const [first, ...rest] = hybridValidators()
    const noKey = { address: first?.address, power: 1 }
    expect(parse({ signatureScheme: 'hybrid', validators: [noKey, ...rest] })).toThrow(/no ML-DSA-65 public key/)
    const short = { ...first, pqPublicKey: '0x1234' }
    expect(parse({ signatureScheme: 'hybrid', validators: [short, ...rest] })).toThrow(/2 bytes, not 1952/)
    expect(parse({ validators: hybridValidators() })).toThrow(/under the secp256k1 scheme/)
    const joiner = { height: 5, address: `0x${'ab'.repeat(20)}`, power: 1 }
    expect(parse({ signatureScheme: 'hybrid', validators: hybridValidators(), validatorChanges: [joiner] })).toThrow(
      /carries no ML-DSA key/,
    )
  })
})

describe('config.cairn.bft.signatureScheme = ml-dsa-65', () => {
  const mlDsaValidators = () =>
    MLDSA_KEYS.map((k) => ({ address: hex(k.address), power: 1, pqPublicKey: hex(k.pqPublicKey as Uint8Array) }))
  const parse = (bft: Record<string, unknown>) => () => parseBftConfig(genesisWith(bft))

  it('parses a fixed set whose addresses are the keys’ pqAddress', () => {
    const c = parseBftConfig(genesisWith({ signatureScheme: 'ml-dsa-65', validators: mlDsaValidators() }))
    expect(c.signatureScheme).toBe('ml-dsa-65')
    expect(c.validators.map((v) => hex(v.address))).toEqual(MLDSA_KEYS.map((k) => hex(k.address)))
    const schedule = new ValidatorSchedule(c.validators, undefined, 'ml-dsa-65')
    expect(schedule.at(3).pqKeyOf(MLDSA_KEYS[1]?.address as Uint8Array)).toEqual(MLDSA_KEYS[1]?.pqPublicKey)
  })

  it('refuses an address that is not its key’s, a missing key and a keyless joiner', () => {
    // The hybrid validators' addresses are their secp256k1 keys': not pqAddress of their ML-DSA keys.
    expect(parse({ signatureScheme: 'ml-dsa-65', validators: hybridValidators() })).toThrow(/keccak256\(pqPublicKey\)/)
    const [first, ...rest] = mlDsaValidators()
    expect(parse({ signatureScheme: 'ml-dsa-65', validators: [{ address: first?.address }, ...rest] })).toThrow(
      /no ML-DSA-65 public key/,
    )
    const joiner = { height: 5, address: `0x${'ab'.repeat(20)}`, power: 1 }
    expect(parse({ signatureScheme: 'ml-dsa-65', validators: mlDsaValidators(), validatorChanges: [joiner] })).toThrow(
      /validatorChanges bring 0xab(ab)+ in, and a change carries no ML-DSA key/,
    )
    // A removal of a member is a change it accepts.
    const removal = { height: 5, address: first?.address, power: 0 }
    expect(
      parse({ signatureScheme: 'ml-dsa-65', validators: mlDsaValidators(), validatorChanges: [removal] }),
    ).not.toThrow()
  })
})

describe('hybrid validator sets and changes', () => {
  it('a member keeps its ML-DSA key across a power change; a joiner without one is refused by update', () => {
    const set = ValidatorSet.create(members(), 'hybrid')
    const a = HYBRID_KEYS[1]?.address as Uint8Array
    const reweighted = set.update([{ address: a, votingPower: 5n }])
    expect(reweighted.pqKeyOf(a)).toEqual(HYBRID_KEYS[1]?.pqPublicKey)
    expect(reweighted.scheme).toBe('hybrid')
    expect(() => set.update([{ address: new Uint8Array(20).fill(7), votingPower: 1n }])).toThrow(
      /no ML-DSA-65 public key/,
    )
  })

  it('admitValidatorChanges leaves out a keyless joiner with a logged reason and keeps the rest', () => {
    const set = ValidatorSet.create(members(), 'hybrid')
    const warnings: string[] = []
    const logger = { warn: (_: unknown, msg: string) => warnings.push(msg) } as never
    const joiner = { address: new Uint8Array(20).fill(7), votingPower: 1n }
    const removal = { address: HYBRID_KEYS[0]?.address as Uint8Array, votingPower: 0n }
    const { admitted, refused } = admitValidatorChanges(set, [joiner, removal], logger)
    expect(admitted).toEqual([removal])
    expect(refused.map((r) => r.change)).toEqual([joiner])
    expect(warnings).toEqual([
      expect.stringMatching(/left out: joins the hybrid set without a registered ML-DSA-65 key/),
    ])
    expect(() => set.update(admitted)).not.toThrow()
    // Under secp256k1 every change goes through.
    const secp = ValidatorSet.create(members().map(({ address, votingPower }) => ({ address, votingPower })))
    expect(admitValidatorChanges(secp, [joiner]).admitted).toEqual([joiner])
  })
})
