// The risk limits as configuration: one key per limit, each value JSON validated by its zod schema
// on every write (API or file). Amounts are decimal strings of base-token (or wei) units, so any
// uint256 fits and JSON stays exact.
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import type { RiskLimits } from '../engine.ts'
import { ArbErrorCode } from '../errors.ts'

const Amount = z.string().regex(/^(0|[1-9]\d{0,77})$/, 'a non-negative integer as a decimal string')
const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x address')

/** Every configuration key and what it accepts. */
export const RISK_SCHEMAS = {
  /** Least net profit after gas for a trade to be sent (base units). */
  minProfit: Amount,
  /** Largest input per trade (base units); null: none. */
  maxIn: Amount.nullable(),
  /** Most input in flight per token at once, across executors (token → units). Absent: no limit. */
  maxExposurePerToken: z.record(Address, Amount),
  /** No trade while the fee per gas would exceed this (wei); null: none. */
  gasPriceCap: Amount.nullable(),
  /** Trading stops for the rest of the UTC day once the day's realised loss reaches this (base units). */
  dailyLossLimit: Amount.nullable(),
  /** Each hop's least output, in basis points below the expected one (0: only the final profit check). */
  hopSlippageBps: z.number().int().min(0).max(10_000),
  /** Trades per block at most (pool-disjoint). */
  maxTradesPerBlock: z.number().int().min(1).max(64),
  /** The breaker opens after this many reverted simulations or trades in a row. */
  maxConsecutiveFailures: z.number().int().min(1).max(10_000),
  /** The breaker opens after this many failed polls of the chain's RPC in a row. */
  maxRpcFailures: z.number().int().min(1).max(10_000),
  /** The kill switch: no new trade while true. */
  killSwitch: z.boolean(),
} as const

export type RiskKey = keyof typeof RISK_SCHEMAS
export type RiskConfig = { [K in RiskKey]: z.infer<(typeof RISK_SCHEMAS)[K]> }
export const RISK_KEYS = Object.keys(RISK_SCHEMAS) as RiskKey[]

export const DEFAULT_RISK_CONFIG: RiskConfig = {
  minProfit: '0',
  maxIn: null,
  maxExposurePerToken: {},
  gasPriceCap: null,
  dailyLossLimit: null,
  hopSlippageBps: 0,
  maxTradesPerBlock: 1,
  maxConsecutiveFailures: 3,
  maxRpcFailures: 5,
  killSwitch: false,
}

export function isRiskKey(key: string): key is RiskKey {
  return Object.hasOwn(RISK_SCHEMAS, key)
}

/** Validates one key's value; throws ARB_CONFIG (a caller fault) saying what is wrong. */
export function parseRiskValue<K extends RiskKey>(key: string, value: unknown): RiskConfig[K] {
  if (!isRiskKey(key))
    throw new CairnError(ArbErrorCode.CONFIG, `unknown configuration key ${key}`, {
      fault: 'caller',
      hint: `one of ${RISK_KEYS.join(', ')}`,
    })
  const r = RISK_SCHEMAS[key].safeParse(value)
  if (!r.success)
    throw new CairnError(
      ArbErrorCode.CONFIG,
      `bad value for ${key}: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`,
      {
        fault: 'caller',
      },
    )
  return r.data as RiskConfig[K]
}

/** The engine's view of the configuration. */
export function toRiskLimits(c: RiskConfig): RiskLimits {
  return {
    minProfit: BigInt(c.minProfit),
    ...(c.maxIn !== null ? { maxIn: BigInt(c.maxIn) } : {}),
    ...(c.gasPriceCap !== null ? { gasPriceCap: BigInt(c.gasPriceCap) } : {}),
    maxTradesPerBlock: c.maxTradesPerBlock,
    maxConsecutiveFailures: c.maxConsecutiveFailures,
  }
}
