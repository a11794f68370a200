import { describe, expect, it } from 'vitest'
import { type ChaosObservation, checkShardRun, type ReceivedEvent, type SettledEvent } from './shard-checker.ts'

/** Two messages 0 → 1 from A to R: #1 delivered (5), #2 expired and refunded (7); A paid 3 of gas. */
function clean(): ChaosObservation {
  const sent = (sequence: bigint, value: bigint) => ({
    source: 0,
    dest: 1,
    sequence,
    hash: `h${sequence}`,
    sender: 'a',
    receiver: 'r',
    value,
  })
  return {
    sent: [sent(1n, 5n), sent(2n, 7n)],
    received: [
      { source: 0, dest: 1, sequence: 1n, hash: 'h1', status: 1, at: [10n, 0] },
      { source: 0, dest: 1, sequence: 2n, hash: 'h2', status: 3, at: [10n, 1] },
    ],
    settled: [
      { source: 0, dest: 1, sequence: 1n, hash: 'h1', refunded: false },
      { source: 0, dest: 1, sequence: 2n, hash: 'h2', refunded: true },
    ],
    drained: true,
    senders: [{ address: 'a', shard: 0, before: 100n, after: 100n - 5n - 3n, gas: 3n }],
    receivers: [{ address: 'r', shard: 1, balance: 5n }],
    bridges: [0n, 0n],
  }
}

describe('the shard chaos checker', () => {
  it('passes a clean run and counts it', () => {
    expect(checkShardRun(clean())).toEqual({
      violations: [],
      stats: { sent: 2, delivered: 1, refunded: 1, inFlight: 0, channels: 1 },
    })
  })

  it.each([
    [
      'a replayed decision',
      (o: ChaosObservation) => o.received.push({ ...(o.received[0] as ReceivedEvent), at: [11n, 0] }),
      /decided twice/,
    ],
    [
      'decisions out of order',
      (o: ChaosObservation) => {
        ;(o.received[0] as { at: [bigint, number] }).at = [12n, 0]
      },
      /order/,
    ],
    [
      'a forged message',
      (o: ChaosObservation) => {
        ;(o.received[0] as { hash: string }).hash = 'forged'
      },
      /forged/,
    ],
    [
      'a double settlement',
      (o: ChaosObservation) => o.settled.push({ ...(o.settled[1] as SettledEvent) }),
      /settled twice/,
    ],
    [
      'a refund of a delivered message',
      (o: ChaosObservation) => {
        ;(o.settled[0] as { refunded: boolean }).refunded = true
      },
      /refunded but its destination decided status 1/,
    ],
    [
      'a message left undecided by the drain',
      (o: ChaosObservation) => {
        o.received.pop()
        o.settled.pop()
      },
      /not decided after the drain/,
    ],
    [
      'value minted twice on the destination',
      (o: ChaosObservation) => {
        ;(o.receivers[0] as { balance: bigint }).balance = 10n
      },
      /receiver r on shard 1 holds 10, delivered 5/,
    ],
    [
      'a refund not paid',
      (o: ChaosObservation) => {
        ;(o.senders[0] as { after: bigint }).after -= 7n
      },
      /sender a on shard 0/,
    ],
    [
      'value left in a bridge',
      (o: ChaosObservation) => {
        o.bridges[1] = 1n
      },
      /bridge of shard 1/,
    ],
  ])('finds %s', (_, spoil, found) => {
    const o = clean()
    spoil(o)
    expect(checkShardRun(o).violations.join('\n')).toMatch(found)
  })
})
