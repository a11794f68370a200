import { initCrypto } from '@cairn/crypto'
await initCrypto()
import { drawScenario } from './sim/scenario.ts'
import { World } from './sim/world.ts'
let sends = 0, gossipSends = 0
const t = performance.now()
let ev = 0
for (let seed = 0; seed < 100; seed++) {
  const w = new World(drawScenario(seed))
  const orig = w.broadcast.bind(w)
  let inGossip = false
  for (const n of w.nodes) { const g = n.gossip.bind(n); n.gossip = () => { inGossip = true; g(); inGossip = false } }
  w.send = ((s) => (a: number, b: number, m: any) => { sends++; if (inGossip) gossipSends++; s(a, b, m) })(w.send.bind(w))
  ev += w.run().events
}
console.log({ sends, gossipSends, ev, ms: performance.now() - t })
