import { readFileSync } from 'node:fs'

/** `http.maxConnections` where the open-file limit is not known (not Linux). */
export const FALLBACK_CONNECTION_LIMIT = 4096
/** The least `auto` gives, whatever the open-file limit. */
const MIN_AUTO_LIMIT = 64

/**
 * The process's open-file limit (RLIMIT_NOFILE, soft; Node raises it to the hard limit at start)
 * from `/proc/self/limits`; null where it cannot be read or is unlimited.
 */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  let text: string
  try {
    text = read()
  } catch {
    return null
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text)
  return m && m[1] !== 'unlimited' ? Number(m[1]) : null
}

/**
 * The RPC port's connection limit in force: as set (0 = none), or `auto`: half the open-file
 * limit — the other half stays for the database's table files, the peers, WebSockets' neighbours
 * and the logs — at least 64, and {@link FALLBACK_CONNECTION_LIMIT} where the limit is unknown.
 */
export function connectionLimit(setting: number | 'auto', nofile: number | null): number {
  if (setting !== 'auto') return setting
  if (nofile === null) return FALLBACK_CONNECTION_LIMIT
  return Math.max(MIN_AUTO_LIMIT, Math.floor(nofile / 2))
}
