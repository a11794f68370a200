// Anvil's flags of the second round (issue 55): the aliases of Cairn's keys (-p, --host, --silent,
// -b), fork mode's (-f/--fork-url, --rpc-url, --fork-block-number, --fork-chain-id, --retries,
// --timeout, --no-storage-caching), a new dev chain's (--hardfork, --gas-limit,
// --disable-block-gas-limit, --base-fee, --timestamp), --auto-impersonate, --order, --steps-tracing,
// --automine-batch; what the dev genesis becomes with them; refusals naming Anvil's flag.
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { addNodeOptions, nodeConfigInputs } from '../../src/cli/node-options.ts'
import { loadConfig } from '../../src/config/load.ts'
import { forkConfig, forkOptions } from '../../src/fork-mode.ts'
import { nodeGenesis } from '../../src/node-genesis.ts'

function configFrom(argv: string[]) {
  const cmd = addNodeOptions(new Command('start').exitOverride())
  cmd.parse(argv, { from: 'user' })
  return loadConfig(nodeConfigInputs(cmd.opts(), {}))
}

describe("Anvil's flags, second round", () => {
  it('-p, --host, --silent and -b are --http.port, --http.addr, --log.level silent and --block-time', () => {
    const c = configFrom(['--dev', '-p', '9999', '--host', '0.0.0.0', '--silent', '-b', '3'])
    expect([c.http.port, c.http.addr, c.log.level, c.blockTime]).toEqual([9999, '0.0.0.0', 'silent', 3])
    // Cairn's own names win when both are given.
    expect(configFrom(['--dev', '--port', '1', '--http.port', '2']).http.port).toBe(2)
  })

  it('fork flags set fork.*; the fork runs without read threads, in memory unless a datadir is given', () => {
    const c = configFrom([
      ...['--dev', '-f', 'http://127.0.0.1:1/key', '--fork-block-number', '5', '--fork-chain-id', '10'],
      ...['--retries', '2', '--timeout', '1000', '--no-storage-caching', '--fork-requests-per-second', '7'],
    ])
    expect(c.fork).toEqual({
      url: 'http://127.0.0.1:1/key',
      blockNumber: 5,
      chainId: 10,
      retries: 2,
      timeoutMs: 1000,
      retryBackoffMs: 200,
      noStorageCaching: true,
      requestsPerSecond: 7,
    })
    expect(forkOptions(c)).toMatchObject({
      url: 'http://127.0.0.1:1/key',
      blockNumber: 5n,
      chainId: 10n,
      attempts: 2,
      backoffMs: 200,
    })
    const run = forkConfig(c)
    expect([run.rpc.threads, run.ephemeral]).toEqual([0, true])
    // With a datadir the fork is kept there (what it fetched included).
    expect(forkConfig(configFrom(['--dev', '-f', 'http://h:1', '--datadir', '/tmp/x'])).ephemeral).toBe(false)
    expect(configFrom(['--dev', '--rpc-url', 'http://h:1']).fork.url).toBe('http://h:1')
  })

  it('a fork needs --dev; a bad URL names --fork-url', () => {
    expect(() => forkConfig(configFrom(['-f', 'http://127.0.0.1:1']))).toThrow(/needs --dev/)
    expect(() => configFrom(['--dev', '-f', 'ws://127.0.0.1:1'])).toThrow(/flag --fork-url/)
  })

  it('--hardfork, --gas-limit, --base-fee, --timestamp make the dev genesis; unset, it is unchanged', () => {
    const plain = nodeGenesis(configFrom(['--dev'])) as Record<string, unknown>
    const g = nodeGenesis(
      configFrom([
        ...['--dev', '--hardfork', 'prague', '--gas-limit', '50000000', '--base-fee', '7'],
        ...['--timestamp', '1700000000'],
      ]),
    ) as Record<string, unknown> & { config: Record<string, unknown> }
    expect(g.gasLimit).toBe(`0x${(50_000_000).toString(16)}`)
    expect(g.baseFeePerGas).toBe('0x7')
    expect(g.timestamp).toBe(`0x${(1_700_000_000).toString(16)}`)
    expect(g.config.cairn).toEqual({ hardfork: 'prague' })
    expect({ ...g, gasLimit: plain.gasLimit, baseFeePerGas: plain.baseFeePerGas, timestamp: plain.timestamp }).toEqual({
      ...plain,
      config: { ...(plain.config as object), cairn: { hardfork: 'prague' } },
    })
    const unlimited = nodeGenesis(configFrom(['--dev', '--disable-block-gas-limit'])) as { gasLimit: string }
    expect(BigInt(unlimited.gasLimit)).toBe(2n ** 63n - 1n)
    const latest = nodeGenesis(configFrom(['--dev', '--hardfork', 'latest'])) as { config: { cairn: unknown } }
    expect(latest.config.cairn).toEqual({ hardfork: 'osaka' })
  })

  it('--auto-impersonate, --order fees, --steps-tracing and --automine-batch are read; --order fifo and an unknown hardfork are refused', () => {
    const c = configFrom(['--dev', '--auto-impersonate', '--order', 'fees', '--steps-tracing', '--automine-batch'])
    expect([c.devChain.autoImpersonate, c.devChain.order, c.stepsTracing, c.automineBatch]).toEqual([
      true,
      'fees',
      true,
      true,
    ])
    expect(configFrom(['--dev']).automineBatch).toBe(false)
    expect(() => configFrom(['--dev', '--order', 'fifo'])).toThrow(/flag --order.*fees/)
    expect(() => configFrom(['--dev', '--hardfork', 'berlin'])).toThrow(/flag --hardfork/)
  })

  it('--code-size-limit and --disable-code-size-limit are read; a limit of 0 names its flag', () => {
    expect(configFrom(['--dev', '--code-size-limit', '49152']).devChain.codeSizeLimit).toBe(49152n)
    expect(configFrom(['--dev', '--disable-code-size-limit']).devChain.disableCodeSizeLimit).toBe(true)
    expect(configFrom(['--dev']).devChain).toMatchObject({ disableCodeSizeLimit: false })
    expect(configFrom(['--dev']).devChain.codeSizeLimit).toBeUndefined()
    expect(() => configFrom(['--dev', '--code-size-limit', '0'])).toThrow(/flag --code-size-limit/)
  })

  it("--gas-price is read (Anvil's legacy price: no effect under London and later rules) and makes no other genesis", () => {
    const config = configFrom(['--dev', '--gas-price', '7000000000'])
    expect(config.devChain.gasPrice).toBe(7_000_000_000n)
    expect(configFrom(['--dev']).devChain.gasPrice).toBeUndefined()
    expect(nodeGenesis(config)).toEqual(nodeGenesis(configFrom(['--dev'])))
    expect(() => configFrom(['--dev', '--gas-price', '-1'])).toThrow(/flag --gas-price/)
  })
})
