/** The staking metrics (`cairn_staking_*`): bonded stake, the active set, slashes, jailings, issuance. */
import { Counter, Gauge, type Registry } from 'prom-client'

export interface StakingMetrics {
  bonded: Gauge
  active: Gauge
  slashes: Counter<'reason'>
  jailings: Counter<'reason'>
  issued: Counter
  proposals: Gauge<'status'>
}

export const SLASH_REASONS = ['double_sign', 'downtime'] as const
export const JAIL_REASONS = ['double_sign', 'downtime', 'self_bond'] as const
export const PROPOSAL_STATUSES = ['voting', 'passed', 'rejected', 'executed'] as const

export function createStakingMetrics(registry: Registry): StakingMetrics {
  const slashes = new Counter({
    name: 'cairn_staking_slashes_total',
    help: 'Validators slashed, by reason (double_sign, downtime)',
    labelNames: ['reason'],
    registers: [registry],
  })
  const jailings = new Counter({
    name: 'cairn_staking_jailings_total',
    help: 'Validators jailed, by reason (double_sign, downtime, self_bond)',
    labelNames: ['reason'],
    registers: [registry],
  })
  for (const reason of SLASH_REASONS) slashes.inc({ reason }, 0)
  for (const reason of JAIL_REASONS) jailings.inc({ reason }, 0)
  const proposals = new Gauge({
    name: 'cairn_gov_proposals',
    help: 'Governance proposals by status',
    labelNames: ['status'],
    registers: [registry],
  })
  for (const status of PROPOSAL_STATUSES) proposals.set({ status }, 0)
  return {
    bonded: new Gauge({
      name: 'cairn_staking_bonded_coins',
      help: 'Stake bonded in the staking contract (coins)',
      registers: [registry],
    }),
    active: new Gauge({
      name: 'cairn_staking_active_validators',
      help: "Validators in the contract's active set",
      registers: [registry],
    }),
    slashes,
    jailings,
    issued: new Counter({
      name: 'cairn_staking_issued_coins_total',
      help: 'Coins issued as block rewards',
      registers: [registry],
    }),
    proposals,
  }
}
