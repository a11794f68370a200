import type { LogEntry } from '@cairn/chain'
import { bytesToHex } from '@cairn/utils'
import type { LogFilter } from './schemas.ts'

/** A predicate for logs matching a filter's addresses and topics (positional, null = any). */
export function logMatcher(filter: Pick<LogFilter, 'address' | 'topics'>): (log: LogEntry) => boolean {
  const addresses = filter.address === undefined ? undefined : new Set([filter.address].flat())
  const topics = (filter.topics ?? []).map((t) => (t === null ? null : new Set([t].flat().filter((x) => x !== null))))
  return (log) => {
    if (addresses && !addresses.has(bytesToHex(log.address))) return false
    for (let i = 0; i < topics.length; i++) {
      const want = topics[i]
      if (!want || want.size === 0) continue
      const got = log.topics[i]
      if (!got || !want.has(bytesToHex(got))) return false
    }
    return true
  }
}
