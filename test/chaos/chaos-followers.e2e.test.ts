// The network testbed's `producer` topology (docs/consensus/testing.md, issue 51): one dev
// producer and three p2p followers as real `cairn start` processes, each in its own network
// namespace, a seeded nemesis (the followers split from the producer, a minority of followers cut
// off, kill -9 and restart of the producer and of a follower, SIGSTOP/SIGCONT; seed 8 draws kill p,
// the producer and f2 split from f1 and f3, kill f2) over 40 s of signed transfers and contract calls sent
// to random nodes (the followers relay them to the producer); then the checker: every follower's
// chain is the producer's, every head served during the run is on the producer's final chain,
// every acknowledged transaction mined once, nonces gap-free, balances conserved, every follower
// holds the producer's head at the heal within 30 s. Skipped with the reason where namespaces
// cannot be made (not root).
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { netlabUnavailable } from './netlab.ts'
import { abortRuns, runOnce } from './run.ts'

const unavailable = netlabUnavailable()
if (unavailable) console.warn(`chaos-followers: skipped: ${unavailable}`)
// a timeout leaves the run going: its nodes and network go with the file
afterAll(abortRuns)

describe.skipIf(unavailable !== null)(
  `chaos: a dev producer and 3 p2p followers under a nemesis${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('the followers hold the producer chain, no acknowledged transaction lost, live after the heal', {
      timeout: 300_000,
    }, async () => {
      const lines: string[] = []
      const r = await runOnce({
        seed: 8,
        topology: 'producer',
        validators: 0,
        followers: 3,
        durationMs: 40_000,
        kinds: ['kill', 'pause', 'partition-halves', 'partition-majority'],
        byzantine: 'never',
        faultMs: [4_000, 8_000],
        gapMs: [2_000, 4_000],
        livenessMs: 30_000,
        settleMs: 15_000,
        baseDir: join(tmpdir(), 'cairn-chaos-e2e'),
        keep: false,
        senders: 6,
        say: (line) => lines.push(line),
      })
      expect(r.violations, `${lines.join('\n')}\nreplay: ${r.replay} (kept ${r.dir})`).toEqual([])
      expect(Object.values(r.faults).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThanOrEqual(3)
      expect(r.acknowledged).toBeGreaterThan(20)
      expect(r.lost).toBe(0)
    })
  },
)
