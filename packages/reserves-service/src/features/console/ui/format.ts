// Pure formatting for the console: amounts, ratios, hashes, times. No DOM, no I/O.

/** An integer amount in units of 10^-decimals as a decimal string: ("150000000", 8) → "1.5". */
export function formatUnits(amount: string, decimals: number): string {
  if (!/^-?\d+$/.test(amount)) return amount
  const negative = amount.startsWith('-')
  const digits = (negative ? amount.slice(1) : amount).replace(/^0+(?=\d)/, '')
  if (decimals <= 0) return (negative ? '-' : '') + digits
  const padded = digits.padStart(decimals + 1, '0')
  const whole = padded.slice(0, -decimals)
  const frac = padded.slice(-decimals).replace(/0+$/, '')
  return (negative ? '-' : '') + whole + (frac ? `.${frac}` : '')
}

/** A reserve ratio ("1.050000000000000000") as a percentage with two decimals ("105.00 %"); null: "—". */
export function formatRatio(ratio: string | null): string {
  if (ratio === null) return '— (no liabilities)'
  const m = /^(\d+)\.?(\d*)$/.exec(ratio)
  if (!m) return ratio
  // percent = ratio × 100, truncated to two decimals
  const frac = (m[2] ?? '').padEnd(4, '0')
  const whole = (BigInt(m[1]!) * 100n + BigInt(frac.slice(0, 2))).toString()
  return `${whole}.${frac.slice(2, 4)} %`
}

/** `0x1234…abcd` for a long hex string; anything else unchanged. */
export function shortHash(hex: string | null | undefined, keep = 8): string {
  if (!hex) return '—'
  return hex.length > 2 * keep + 3 ? `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}` : hex
}

/** An ISO time as "2026-11-28 06:30:57 UTC"; null: "—". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** Progress of a build as "1234 / 5000 users (24 %)". */
export function formatProgress(done: number, total: number): string {
  if (total <= 0) return `${done} users`
  const pct = Math.min(100, Math.floor((done * 100) / total))
  return `${done} / ${total} users (${pct} %)`
}
