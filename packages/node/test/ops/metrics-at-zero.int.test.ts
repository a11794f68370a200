// Labelled counters with a closed set of values are exported at 0 from the start (an alert on
// `rate(cairn_blocks_imported_total[5m]) == 0` needs a series before the first block); only the
// counters labelled by an open set (listed here) may have none yet.
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { COUNTERS_AT_ZERO } from '../../src/metrics-at-zero.ts'
import { type StartedNode, startNode } from '../../src/node.ts'

/** Counters whose label values are open (a method name, an outside service, a bad block's code). */
const OPEN_LABELS = new Set(['cairn_rpc_requests_total', 'cairn_outbound_calls_total', 'cairn_block_bad_total'])

describe('labelled counters at 0 from the start', () => {
  let node: StartedNode
  let text: string
  beforeAll(async () => {
    // --no-mining: no block is made, so every count below is the start's
    const config = loadConfig({
      flags: { dev: true, ephemeral: true, mining: false, 'http.port': 0, 'log.level': 'silent' },
      env: {},
    })
    node = await startNode(config, { logger: silentLogger })
    text = await (await fetch(`${node.url}/metrics`)).text()
  })
  afterAll(async () => {
    await node?.close()
  })

  it('cairn_blocks_imported_total has its four statuses at 0 before any block', () => {
    for (const status of ['head', 'side', 'known', 'invalid'])
      expect(text).toMatch(new RegExp(`^cairn_blocks_imported_total\\{status="${status}"\\} 0$`, 'm'))
  })

  it('every value of every closed-set counter has a series', () => {
    const missing: string[] = []
    for (const [name, labels] of Object.entries(COUNTERS_AT_ZERO)) {
      if (!text.includes(`# TYPE ${name} counter`)) continue // a counter of a part this node does not run
      for (const [label, values] of Object.entries(labels))
        for (const v of values) if (!text.includes(`${name}{${label}="${v}"}`)) missing.push(`${name}{${label}="${v}"}`)
    }
    expect(missing).toEqual([])
    expect(text).toMatch(/^cairn_txpool_rejected_total\{reason="TXPOOL_NONCE_TOO_LOW"\} 0$/m)
  })

  it('no other labelled counter is declared without a sample', () => {
    const declared = [...text.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1] as string)
    const silent = declared.filter((n) => !new RegExp(`^${n}(\\{| )`, 'm').test(text) && !OPEN_LABELS.has(n))
    expect(silent).toEqual([])
  })
})
