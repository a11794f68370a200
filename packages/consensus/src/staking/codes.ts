/**
 * The staking contract's enumerations as numbers on the wire (its `SCHEME_*` and reason constants,
 * Staking.sol), by name: what the genesis writes, the engine decodes from its logs and the CLI reads.
 */

/** A chain's consensus signature scheme (`Staking.signatureScheme()`, `initializePq(scheme, …)`). */
export type StakingSignatureScheme = 'secp256k1' | 'hybrid' | 'ml-dsa-65'

/** `Staking.SCHEME_*`: the code of each scheme, its index here. */
export const SIGNATURE_SCHEME_CODES: readonly StakingSignatureScheme[] = ['secp256k1', 'hybrid', 'ml-dsa-65']

/** The code of `scheme` (`Staking.SCHEME_*`). */
export function signatureSchemeCode(scheme: StakingSignatureScheme): number {
  return SIGNATURE_SCHEME_CODES.indexOf(scheme)
}

/**
 * The reason codes of `Slashed(address,uint256,uint8)` and `Jailed(address,uint64,uint8)`: 1
 * double-sign, 2 downtime, 3 self-bond below its minimum (jailing only).
 */
export const PENALTY_REASONS: Readonly<Record<number, 'double_sign' | 'downtime' | 'self_bond'>> = {
  1: 'double_sign',
  2: 'downtime',
  3: 'self_bond',
}
