/** Four hybrid validators (secp256k1 + ML-DSA-65 keys from fixed seeds) for the PQ scheme tests. */
import { keccak256 } from '@cairn/crypto'
import { rawDigestKey } from '@cairn/keys'
import { ValidatorSet } from '../../../src/bft/validator-set.ts'
import type { Address } from '../../../src/index.ts'
import { hybridDigestKey, mlDsaDigestKey, type SchemeDigestKey } from '../../../src/privval/index.ts'

export const PQ_CHAIN_ID = 4242n
const utf8 = (s: string) => new TextEncoder().encode(s)

export const secpKey = (i: number) => keccak256(utf8(`pq-fixture-secp-${i}`))
export const pqSeed = (i: number) => keccak256(utf8(`pq-fixture-mldsa-${i}`))

/** Deterministic signing keeps the fixture reproducible; hedged signing has its own test. */
export const HYBRID_KEYS: SchemeDigestKey[] = [0, 1, 2, 3].map((i) =>
  hybridDigestKey({ secpKey: rawDigestKey(secpKey(i)), pqSeed: pqSeed(i), signing: 'deterministic' }),
)
export const MLDSA_KEYS: SchemeDigestKey[] = [0, 1, 2, 3].map((i) =>
  mlDsaDigestKey({ pqSeed: pqSeed(i), signing: 'deterministic' }),
)

function setOf(keys: SchemeDigestKey[]): { set: ValidatorSet; pqKeyOf: (a: Address) => Uint8Array | null } {
  const set = ValidatorSet.create(keys.map((k) => ({ address: k.address, votingPower: 1n })))
  const byAddress = new Map(keys.map((k) => [Buffer.from(k.address).toString('hex'), k.pqPublicKey]))
  return { set, pqKeyOf: (a) => byAddress.get(Buffer.from(a).toString('hex')) ?? null }
}

export const HYBRID_SET = setOf(HYBRID_KEYS)
export const MLDSA_SET = setOf(MLDSA_KEYS)

/** The key of the validator at `index` of `set`. */
export function keyAt(keys: SchemeDigestKey[], set: ValidatorSet, index: number): SchemeDigestKey {
  const address = set.at(index)?.address
  const key = keys.find((k) => address !== undefined && Buffer.from(k.address).equals(Buffer.from(address)))
  if (key === undefined) throw new Error(`no key at index ${index}`)
  return key
}
