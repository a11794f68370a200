/**
 * The shard chaos run's checker: from what every shard's bridge logged (`MessageSent`,
 * `MessageReceived`, `MessageSettled`, read back from the chains after the run) and the balances
 * of everyone the workload touched, whether
 *   - each channel (s → d) sent 1, 2, 3, … and its destination decided them once each, in that order;
 *   - every decided message is the one its source committed to (no forged message accepted);
 *   - every message settled at most once on its source, refunded exactly when its destination did
 *     not deliver it, and (drained) every sent message decided once and settled once;
 *   - value is conserved: each receiver holds what was delivered to it, each sender lost what it
 *     sent plus its gas less its refunds, and no bridge holds anything.
 * Pure: the run (`shard-chaos.ts`) collects, this decides. Each violation is a sentence.
 */

export interface SentEvent {
  source: number
  dest: number
  sequence: bigint
  hash: string
  sender: string
  receiver: string
  value: bigint
}

export interface ReceivedEvent {
  source: number
  dest: number
  sequence: bigint
  hash: string
  /** 1 delivered, 2 failed, 3 expired. */
  status: number
  /** Position on the destination's chain: block number, then log index. */
  at: [bigint, number]
}

export interface SettledEvent {
  source: number
  dest: number
  sequence: bigint
  hash: string
  refunded: boolean
}

export interface ChaosObservation {
  sent: SentEvent[]
  received: ReceivedEvent[]
  settled: SettledEvent[]
  /** Whether the run was drained (every message should have been decided and settled). */
  drained: boolean
  /** Per sender (lower-case address, on its home shard): balance before and after, gas paid, value of its included sends. */
  senders: { address: string; shard: number; before: bigint; after: bigint; gas: bigint }[]
  /** Per receiver (fresh addresses on their shard): balance after (0 before). */
  receivers: { address: string; shard: number; balance: bigint }[]
  /** Each shard's bridge balance. */
  bridges: bigint[]
}

export interface ChaosVerdict {
  violations: string[]
  stats: { sent: number; delivered: number; refunded: number; inFlight: number; channels: number }
}

const chan = (s: number, d: number) => `${s}→${d}`

export function checkShardRun(o: ChaosObservation): ChaosVerdict {
  const v: string[] = []
  const sentBy = new Map<string, Map<bigint, SentEvent>>()
  for (const e of o.sent) {
    const m = sentBy.get(chan(e.source, e.dest)) ?? new Map()
    sentBy.set(chan(e.source, e.dest), m)
    if (m.has(e.sequence)) v.push(`channel ${chan(e.source, e.dest)} sent #${e.sequence} twice`)
    m.set(e.sequence, e)
  }
  for (const [c, m] of sentBy) {
    for (let q = 1n; q <= BigInt(m.size); q++)
      if (!m.has(q)) v.push(`channel ${c} sent ${m.size} messages but not #${q}`)
  }
  // Decided once each, in order, and the one committed to.
  const decided = new Map<string, Map<bigint, ReceivedEvent>>()
  const byChannel = new Map<string, ReceivedEvent[]>()
  for (const e of o.received) {
    const list = byChannel.get(chan(e.source, e.dest)) ?? []
    byChannel.set(chan(e.source, e.dest), list)
    list.push(e)
  }
  for (const [c, list] of byChannel) {
    list.sort((a, b) => (a.at[0] === b.at[0] ? a.at[1] - b.at[1] : a.at[0] < b.at[0] ? -1 : 1))
    const m = new Map<bigint, ReceivedEvent>()
    decided.set(c, m)
    let expect = 1n
    for (const e of list) {
      if (m.has(e.sequence)) v.push(`channel ${c}: #${e.sequence} decided twice (a replay accepted)`)
      else if (e.sequence !== expect) v.push(`channel ${c}: #${e.sequence} decided when #${expect} was next (order)`)
      m.set(e.sequence, e)
      expect = e.sequence + 1n
      const s = sentBy.get(c)?.get(e.sequence)
      if (!s) v.push(`channel ${c}: #${e.sequence} decided but never sent (a forged message accepted)`)
      else if (s.hash !== e.hash) v.push(`channel ${c}: #${e.sequence} decided with another hash than sent (forged)`)
    }
  }
  // Settled once, refunded exactly when not delivered.
  const settled = new Map<string, SettledEvent>()
  for (const e of o.settled) {
    const key = `${chan(e.source, e.dest)}#${e.sequence}`
    if (settled.has(key)) v.push(`channel ${key} settled twice`)
    settled.set(key, e)
    const r = decided.get(chan(e.source, e.dest))?.get(e.sequence)
    if (!r) {
      v.push(`channel ${key} settled on its source but never decided on its destination (a forged receipt accepted)`)
      continue
    }
    if (e.hash !== r.hash) v.push(`channel ${key} settled with another hash than decided`)
    if (e.refunded !== (r.status !== 1)) {
      v.push(
        `channel ${key} ${e.refunded ? 'refunded' : 'acknowledged'} but its destination decided status ${r.status}`,
      )
    }
  }
  let delivered = 0
  let refunded = 0
  let inFlight = 0
  const deliveredTo = new Map<string, bigint>()
  const refundedTo = new Map<string, bigint>()
  const sentFrom = new Map<string, bigint>()
  for (const [c, m] of sentBy) {
    for (const s of m.values()) {
      const key = `${s.sender}@${s.source}`
      sentFrom.set(key, (sentFrom.get(key) ?? 0n) + s.value)
      const r = decided.get(c)?.get(s.sequence)
      const st = settled.get(`${c}#${s.sequence}`)
      if (r?.status === 1) {
        delivered++
        const to = `${s.receiver}@${s.dest}`
        deliveredTo.set(to, (deliveredTo.get(to) ?? 0n) + s.value)
      }
      if (st?.refunded) {
        refunded++
        refundedTo.set(key, (refundedTo.get(key) ?? 0n) + s.value)
      }
      if (!r || !st) {
        inFlight++
        if (o.drained) v.push(`channel ${c}: #${s.sequence} ${r ? 'not settled' : 'not decided'} after the drain`)
      }
    }
  }
  for (const r of o.receivers) {
    const want = deliveredTo.get(`${r.address}@${r.shard}`) ?? 0n
    if (r.balance !== want) v.push(`receiver ${r.address} on shard ${r.shard} holds ${r.balance}, delivered ${want}`)
  }
  for (const s of o.senders) {
    const key = `${s.address}@${s.shard}`
    const want = s.before - (sentFrom.get(key) ?? 0n) - s.gas + (refundedTo.get(key) ?? 0n)
    if (s.after !== want) v.push(`sender ${s.address} on shard ${s.shard} holds ${s.after}, expected ${want}`)
  }
  for (const [k, b] of o.bridges.entries()) if (b !== 0n) v.push(`the bridge of shard ${k} holds ${b}`)
  return {
    violations: v,
    stats: { sent: o.sent.length, delivered, refunded, inFlight, channels: sentBy.size },
  }
}
