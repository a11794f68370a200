// When each batch of a paced, open-loop load is due. The load is split into streams (one per node:
// a sender keeps its endpoint, as a wallet does), and the streams need not be equal (10 senders over
// 4 nodes give two streams 3 senders and two 2). Each stream carries its share of the rate, so every
// stream spans the same time and the whole load is offered at the rate from its first batch to its
// last; stream n of N starts up to n/N of its interval late, so the streams' batches interleave.
//
// (The BFT bench's first pacing gave every stream one batch in N of the total rate: the streams with
// fewer transactions finished early and the last ~30% of the run was offered at about half the
// rate, so its chain rate measured the load's, ~800/s at an asked 1,000.)

/**
 * The due times (ms from the start) of each stream's batches: `streams[n]` transactions in batches
 * of `batch` (the last may be short), the whole load at `rate` transactions a second.
 */
export function batchDueTimes(streams: readonly number[], batch: number, rate: number): number[][] {
  if (!(batch >= 1) || !(rate > 0)) throw new RangeError(`batch (${batch}) must be ≥ 1 and rate (${rate}) > 0`)
  const total = streams.reduce((sum, n) => sum + n, 0)
  return streams.map((length, n) => {
    if (length === 0) return []
    // This stream's share of the rate is rate · length / total: a batch every batch / share seconds.
    const interval = (batch * 1000 * total) / (rate * length)
    // Staggered by n/N of its interval, but never by more than n of the whole load's batch
    // intervals (a stream of a few transactions has a long interval of its own).
    const offset = (n / streams.length) * Math.min(interval, (streams.length * batch * 1000) / rate)
    const batches = Math.ceil(length / batch)
    return Array.from({ length: batches }, (_, k) => offset + k * interval)
  })
}
