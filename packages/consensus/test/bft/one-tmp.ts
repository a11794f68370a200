import { drawScenario } from './sim/scenario.ts'
import { World } from './sim/world.ts'

const sc = drawScenario(Number(process.argv[2]))
console.log(JSON.stringify(sc, (k, v) => (typeof v === 'bigint' ? v.toString() : v)))
const w = new World(sc)
const r = w.run({ livenessBoundMs: Number(process.argv[3] ?? 110000) })
console.log(r)
for (const n of w.nodes) console.log(n.index, n.behaviour, n.chain.length, n.machine?.snapshot(), n.signerState.last())
