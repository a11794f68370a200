// Declares an arbitrage e2e suite once per chain: a Cairn dev node, and Anvil where its binary is
// installed (apart from chain-harness.ts, which scripts outside vitest use too).
import { describe } from 'vitest'
import { anvilBinary, startAnvil, startCairn, type TestChain } from './chain-harness.ts'

/**
 * Declares `suite` on a Cairn dev node and, where Anvil's binary is installed, on Anvil; without
 * it, a skipped suite says why (`what` names it).
 */
export function onEachChain(what: string, suite: (name: string, start: () => Promise<TestChain>) => void): void {
  suite('a Cairn dev node', startCairn)
  const anvil = anvilBinary()
  if (anvil) suite('Anvil', () => startAnvil(anvil))
  else
    describe.skip(`${what} on Anvil (binary not installed: npm optional dependency @foundry-rs/anvil-linux-amd64, or ANVIL_BIN=path)`, () => {})
}
