/**
 * Validator change records with ML-DSA-65 keys (extra data version 3): `[address, power,
 * pqPublicKey]` for a joiner under a PQ scheme, `[address, power]` otherwise, byte for byte as
 * before under secp256k1. Wrong key sizes, a key under secp256k1 or on a removal are a peer fault.
 */
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { admitValidatorChanges } from '../../../src/bft/pq/index.ts'
import { sameChanges } from '../../../src/bft/validator-schedule.ts'
import {
  decodeBftExtra,
  decodeScheduleRecord,
  decodeValidatorChanges,
  encodeBftExtra,
  encodeScheduleRecord,
  encodeValidatorChanges,
  ValidatorSchedule,
  ValidatorSet,
} from '../../../src/index.ts'
import { HYBRID_KEYS, MLDSA_KEYS } from './pq-fixture.ts'

const members = (keys = HYBRID_KEYS.slice(0, 3)) =>
  keys.map((k) => ({ address: k.address, votingPower: 1n, pqPublicKey: k.pqPublicKey as Uint8Array }))
const joinerKey = HYBRID_KEYS[3]
const joiner = { address: joinerKey?.address as Uint8Array, votingPower: 7n, pqPublicKey: joinerKey?.pqPublicKey }
const reweight = { address: HYBRID_KEYS[0]?.address as Uint8Array, votingPower: 3n }
const removal = { address: HYBRID_KEYS[1]?.address as Uint8Array, votingPower: 0n }
const peerFault = { code: 'CONSENSUS_BFT_MALFORMED', fault: 'peer' }

describe('change records with ML-DSA keys', () => {
  it('round-trips a joiner with its key beside keyless power changes and removals', () => {
    const changes = [joiner, reweight, removal]
    const bytes = encodeValidatorChanges(changes)
    const back = decodeValidatorChanges(bytes, 'hybrid')
    expect(back.map((c) => [bytesToHex(c.address), c.votingPower, c.pqPublicKey && bytesToHex(c.pqPublicKey)])).toEqual(
      [
        [bytesToHex(joiner.address), 7n, bytesToHex(joiner.pqPublicKey as Uint8Array)],
        [bytesToHex(reweight.address), 3n, undefined],
        [bytesToHex(removal.address), 0n, undefined],
      ],
    )
    expect(sameChanges(back, changes)).toBe(true)
    // A different key is a different change (a header must carry the key the block decided).
    const other = { ...joiner, pqPublicKey: HYBRID_KEYS[2]?.pqPublicKey }
    expect(sameChanges(back, [other, reweight, removal])).toBe(false)
    expect(sameChanges(back, [{ ...joiner, pqPublicKey: null }, reweight, removal])).toBe(false)
    // In extra data (version 3) and in the persisted schedule alike.
    const extra = encodeBftExtra({ round: 0, parentCertificate: null, validatorChanges: changes })
    expect(sameChanges(decodeBftExtra(extra, 'hybrid').validatorChanges ?? [], changes)).toBe(true)
    const record = decodeScheduleRecord(encodeScheduleRecord({ scannedTo: 9, changes: new Map([[5, changes]]) }))
    expect(sameChanges(record.changes.get(5) ?? [], changes)).toBe(true)
  })

  it('keeps secp256k1 records byte for byte: [address, power], a null key writes nothing', () => {
    const a = { address: new Uint8Array(20).fill(0x11), votingPower: 10n }
    const expected = `0xd7d694${'11'.repeat(20)}0a`
    expect(bytesToHex(encodeValidatorChanges([a]))).toBe(expected)
    expect(bytesToHex(encodeValidatorChanges([{ ...a, pqPublicKey: null }]))).toBe(expected)
    expect(decodeValidatorChanges(hexToBytes(expected), 'secp256k1')).toEqual([a])
  })

  it('refuses a wrong key size, a key under secp256k1, a key on a removal, four fields — as a peer fault', () => {
    const key = joiner.pqPublicKey as Uint8Array
    const bad = (k: Uint8Array, power = 7n) =>
      encodeValidatorChanges([{ address: joiner.address, votingPower: power, pqPublicKey: k }])
    expect(() => decodeValidatorChanges(bad(key.subarray(0, 1951)), 'hybrid')).toThrow(
      expect.objectContaining({ ...peerFault, message: expect.stringMatching(/not 1952 bytes/) }),
    )
    expect(() => decodeValidatorChanges(bad(new Uint8Array(1953)), 'ml-dsa-65')).toThrow(
      expect.objectContaining(peerFault),
    )
    expect(() => decodeValidatorChanges(bad(key), 'secp256k1')).toThrow(
      expect.objectContaining({ ...peerFault, message: expect.stringMatching(/under secp256k1/) }),
    )
    expect(() => decodeValidatorChanges(bad(key, 0n), 'hybrid')).toThrow(
      expect.objectContaining({ ...peerFault, message: expect.stringMatching(/removal carries/) }),
    )
    // Inside a header: the extra data is malformed.
    const extra = encodeBftExtra({
      round: 0,
      parentCertificate: null,
      validatorChanges: [{ ...joiner, pqPublicKey: key.subarray(0, 100) }],
    })
    expect(() => decodeBftExtra(extra, 'hybrid')).toThrow(expect.objectContaining(peerFault))
    expect(() =>
      decodeBftExtra(encodeBftExtra({ round: 0, parentCertificate: null, validatorChanges: [joiner] })),
    ).toThrow(expect.objectContaining(peerFault))
  })

  it('a keyed joiner enters the schedule with its key; a keyless one is refused', () => {
    const schedule = new ValidatorSchedule(members(), undefined, 'hybrid')
    expect(schedule.record(4, [joiner, reweight])).toBe(true)
    expect(schedule.at(4).pqKeyOf(joiner.address)).toEqual(joiner.pqPublicKey)
    expect(schedule.at(3).indexOf(joiner.address)).toBe(-1)
    const other = new ValidatorSchedule(members(), undefined, 'hybrid')
    expect(() => other.record(4, [{ address: joiner.address, votingPower: 7n }])).toThrow(/no ML-DSA-65 public key/)
  })

  it('admitValidatorChanges admits a keyed joiner, and leaves out one whose key is not its address under ml-dsa-65', () => {
    const hybrid = ValidatorSet.create(members(), 'hybrid')
    expect(admitValidatorChanges(hybrid, [joiner]).admitted).toEqual([joiner])
    const mlDsa = ValidatorSet.create(members(MLDSA_KEYS.slice(0, 3)), 'ml-dsa-65')
    const good = {
      address: MLDSA_KEYS[3]?.address as Uint8Array,
      votingPower: 1n,
      pqPublicKey: MLDSA_KEYS[3]?.pqPublicKey,
    }
    const stolen = { ...good, address: new Uint8Array(20).fill(9) }
    const { admitted, refused } = admitValidatorChanges(mlDsa, [good, stolen])
    expect(admitted).toEqual([good])
    expect(refused[0]?.reason).toMatch(/bad key: .*keccak256\(pqPublicKey\)/)
  })
})
