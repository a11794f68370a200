// Exact arithmetic of a reconciliation: amounts are bigints in a currency's smallest unit at a
// stated number of decimals, brought to a common scale before they are added or compared; the
// reserve ratio is assets / liabilities truncated (never rounded up) to RATIO_DECIMALS places, so
// a ratio of at least 1 means the assets cover the liabilities exactly, not nearly.

/** Fractional digits of a reserve ratio. */
export const RATIO_DECIMALS = 18

/** Most decimals an amount may have (u128 snapshot amounts use 0–38). */
export const MAX_DECIMALS = 38

/** An amount in a unit of 10^-decimals (`{value: 150n, decimals: 2}` is 1.50). */
export interface ScaledAmount {
  value: bigint
  decimals: number
}

/** `a` in units of 10^-`decimals` (`decimals` ≥ `a.decimals`: exact). */
export function rescale(a: ScaledAmount, decimals: number): bigint {
  if (decimals < a.decimals) throw new RangeError(`cannot rescale ${a.decimals} decimals down to ${decimals}`)
  return a.value * 10n ** BigInt(decimals - a.decimals)
}

/**
 * Parses a non-negative decimal in whole units (`"1250"`, `"0.00042"`) exactly; null when it is not
 * one (sign, exponent, spaces, more than {@link MAX_DECIMALS} fractional digits).
 */
export function parseDecimal(text: string): ScaledAmount | null {
  const m = /^(0|[1-9][0-9]{0,59})(?:\.([0-9]{1,38}))?$/.exec(text)
  if (!m) return null
  const frac = m[2] ?? ''
  return { value: BigInt(`${m[1]}${frac}`), decimals: frac.length }
}

/** `a` as a decimal in whole units, trailing fractional zeros dropped (`150n, 2` → `"1.5"`). */
export function formatDecimal(a: ScaledAmount): string {
  const neg = a.value < 0n
  const digits = (neg ? -a.value : a.value).toString()
  if (a.decimals === 0) return `${neg ? '-' : ''}${digits}`
  const padded = digits.padStart(a.decimals + 1, '0')
  const int = padded.slice(0, padded.length - a.decimals)
  const frac = padded.slice(padded.length - a.decimals).replace(/0+$/, '')
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`
}

/**
 * assets / liabilities as a decimal string with exactly {@link RATIO_DECIMALS} fractional digits,
 * truncated toward zero; null when the liabilities are 0 (any assets cover them). Both in one unit.
 */
export function reserveRatio(assets: bigint, liabilities: bigint): string | null {
  if (assets < 0n || liabilities < 0n) throw new RangeError('amounts must not be negative')
  if (liabilities === 0n) return null
  const scaled = (assets * 10n ** BigInt(RATIO_DECIMALS)) / liabilities
  const digits = scaled.toString().padStart(RATIO_DECIMALS + 1, '0')
  return `${digits.slice(0, -RATIO_DECIMALS)}.${digits.slice(-RATIO_DECIMALS)}`
}

/** One currency's liabilities against its assets, both at `decimals`. */
export interface CurrencyBalance {
  symbol: string
  /** The common scale: the snapshot's decimals, or a finer source's. */
  decimals: number
  /** Integers in units of 10^-decimals. */
  liabilities: string
  assets: string
  /** assets − liabilities (negative on a shortfall). */
  surplus: string
  ratio: string | null
  status: 'ok' | 'shortfall'
  /** Sources counted. */
  sources: number
}

/**
 * Compares one currency: `liabilities` (the snapshot's total) against the sum of `assets`, each at
 * its own decimals, at the finest of them all — nothing is rounded.
 */
export function compareCurrency(symbol: string, liabilities: ScaledAmount, assets: ScaledAmount[]): CurrencyBalance {
  const decimals = Math.max(liabilities.decimals, ...assets.map((a) => a.decimals))
  const l = rescale(liabilities, decimals)
  let a = 0n
  for (const x of assets) a += rescale(x, decimals)
  return {
    symbol,
    decimals,
    liabilities: l.toString(),
    assets: a.toString(),
    surplus: (a - l).toString(),
    ratio: reserveRatio(a, l),
    status: a >= l ? 'ok' : 'shortfall',
    sources: assets.length,
  }
}
