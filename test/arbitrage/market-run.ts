// The long run of issue 66's market, a script (not CI): the operator's limits (maxConsecutiveFailures
// 3, maxTradesPerBlock 8), 29 pools, 2 s interval mining, a noise trader racing the engine into the
// same blocks, on a `cairn start --dev` process and on Anvil, one after the other. Prints one JSON
// line per chain and exits 1 when either captures less than 95% of the greedy optimum, counts a
// fault, or opens the breaker.
//
//   node --import tsx test/arbitrage/market-run.ts [--rounds 40] [--chain cairn|anvil|both]
//
// Anvil: ANVIL_BIN, or the optional npm dependency @foundry-rs/anvil-linux-amd64.
import { parseArgs } from 'node:util'
import { anvilBinary, startAnvil, startCairnProcess, type TestChain } from './chain-harness.ts'
import { raceMarket } from './market-race.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '40' },
    chain: { type: 'string', default: 'both' },
    verbose: { type: 'boolean', default: false },
  },
})
const rounds = Number(values.rounds)
if (!Number.isInteger(rounds) || rounds < 2) throw new Error(`--rounds must be an integer ≥ 2, got ${values.rounds}`)
const chains: { name: string; start: () => Promise<TestChain> }[] = []
if (values.chain === 'cairn' || values.chain === 'both') chains.push({ name: 'cairn', start: startCairnProcess })
if (values.chain === 'anvil' || values.chain === 'both') {
  const bin = anvilBinary()
  if (!bin) throw new Error('Anvil is not installed: set ANVIL_BIN or install @foundry-rs/anvil-linux-amd64')
  chains.push({ name: 'anvil', start: () => startAnvil(bin) })
}
if (chains.length === 0) throw new Error(`--chain must be cairn, anvil or both, got ${values.chain}`)

let ok = true
for (const { name, start } of chains) {
  const c = await start()
  const t0 = Date.now()
  try {
    const r = await raceMarket(c, {
      rounds,
      ...(values.verbose ? { log: (l: string) => console.error(`${name} +${Date.now() - t0} ms ${l}`) } : {}),
    })
    const pass = r.permille >= 950n && r.faults.length === 0 && r.breakerOpened === 0
    ok &&= pass
    console.log(
      JSON.stringify({
        chain: name,
        rounds,
        permille: Number(r.permille),
        trades: r.trades,
        lostRaces: r.lostRaces,
        faults: r.faults,
        breakerOpened: r.breakerOpened,
        decisions: r.kinds,
        seconds: Math.round((Date.now() - t0) / 1000),
        pass,
      }),
    )
  } finally {
    await c.close()
  }
}
process.exit(ok ? 0 : 1)
