/**
 * What must hold of staking after any block, whoever runs it (Cosmos's x/crisis invariants): the
 * staking simulator (test/staking: in-process networks), the chaos checker (test/chaos: real
 * processes under a nemesis) and the contract tests (test/contracts: random operation sequences on a
 * dev node) assert these, each reading the chain its own way. Pure functions of what was read: no
 * I/O, no clock.
 *
 * - **Conservation**: the staking contract's balance is exactly what its accounting holds (bonded +
 *   unbonding + unpaid rewards + commissions + community pool): {@link accountingImbalance} is 0.
 * - **The set follows the contract**: the validator set the engine uses at height H+2 is the
 *   contract's `activeSet()` in the state after H, addresses and powers ({@link setFollowsContract}).
 * - **The epoch bound**: an epoch update moves at most `maxPowerChangeBps` of the old total power,
 *   besides removing jailed members ({@link epochPowerMoved}, {@link epochPowerAllowed}).
 */

/** `Staking.accounting()`: where the coins the contract holds are. */
export interface StakingAccounting {
  bonded: bigint
  unbonding: bigint
  rewards: bigint
  commissions: bigint
  pool: bigint
  /** Burned by slashes and rejected deposits so far (left the contract: not in its balance). */
  burnedTotal: bigint
}

/** `Staking.accounting()`'s result (six words, in the contract's order) as named fields. */
export function accountingOf(result: readonly bigint[]): StakingAccounting {
  const [bonded = 0n, unbonding = 0n, rewards = 0n, commissions = 0n, pool = 0n, burnedTotal = 0n] = result
  return { bonded, unbonding, rewards, commissions, pool, burnedTotal }
}

/** Conservation: the contract's `balance` minus what `accounting` says it holds (0n when conserved). */
export function accountingImbalance(balance: bigint, accounting: StakingAccounting): bigint {
  const { bonded, unbonding, rewards, commissions, pool } = accounting
  return balance - (bonded + unbonding + rewards + commissions + pool)
}

/** A member of a validator set as read (an address, 0x-hex, with its power). */
export interface ValidatorSetMember {
  address: string
  power: bigint | string
}

/**
 * A set as a key two sets compare by: each member `address:power` (the address lower case), sorted,
 * joined by commas; with `powers: false`, the addresses alone.
 */
export function validatorSetKey(members: readonly ValidatorSetMember[], opts: { powers?: boolean } = {}): string {
  return members
    .map((m) => (opts.powers === false ? m.address.toLowerCase() : `${m.address.toLowerCase()}:${BigInt(m.power)}`))
    .sort()
    .join(',')
}

/** One height at which the engine's set is not the contract's set of two heights before. */
export interface SetMismatch {
  /** The engine's height (H+2). */
  height: number
  /** The engine's set at `height` and the contract's after `height − 2` ({@link validatorSetKey}). */
  engine: string
  contract: string | undefined
}

/**
 * The set rule over heights `from..to` of one node: the engine's set at H+2 (`engineAt(H+2)`) against
 * the contract's `activeSet()` after H (`contractAfter(H)`), as keys made the same way. Returns each
 * height where they differ, in order; a height either side has no key for is skipped.
 */
export function setFollowsContract(
  from: number,
  to: number,
  engineAt: (height: number) => string | undefined,
  contractAfter: (height: number) => string | undefined,
): SetMismatch[] {
  const out: SetMismatch[] = []
  for (let h = from; h <= to; h++) {
    const engine = engineAt(h)
    if (engine === undefined) continue
    const contract = contractAfter(h - 2)
    if (engine !== contract) out.push({ height: h, engine, contract })
  }
  return out
}

/** The power an epoch update moved: Σ |after − before| over every member of either set (by address). */
export function epochPowerMoved(before: ReadonlyMap<string, bigint>, after: ReadonlyMap<string, bigint>): bigint {
  let moved = 0n
  for (const k of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(k) ?? 0n
    const b = after.get(k) ?? 0n
    moved += a > b ? a - b : b - a
  }
  return moved
}

/**
 * The most an epoch update may move (`Staking.epochUpdate`): `maxPowerChangeBps` of the old set's
 * total power (at least 1 when that rounds to 0, as the contract's budget), or the power of the
 * jailed members it must remove (`forced`) when that is more.
 */
export function epochPowerAllowed(
  before: ReadonlyMap<string, bigint>,
  maxPowerChangeBps: number,
  forced: bigint,
): bigint {
  const oldTotal = [...before.values()].reduce((a, b) => a + b, 0n)
  const budget = (oldTotal * BigInt(maxPowerChangeBps)) / 10_000n
  return (budget > forced ? budget : forced) + (budget === 0n ? 1n : 0n)
}
