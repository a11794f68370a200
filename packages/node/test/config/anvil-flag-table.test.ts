// Every flag `anvil --help` lists (Anvil 1.7.1, its aliases included) on `cairn start --dev`: each
// one either sets what it says in the config, is accepted (Cairn already does what it asks: its
// help says so), or is refused with the flag named and the reason — never commander's "unknown
// option". docs/api/anvil-flags.md is the same table for users.
import { CairnError } from '@cairn/utils'
import { Command, CommanderError } from 'commander'
import { describe, expect, it } from 'vitest'
import { registerStart } from '../../src/cli/commands/start.ts'
import { nodeConfigInputs } from '../../src/cli/node-options.ts'
import { loadConfig } from '../../src/config/load.ts'
import type { NodeConfig } from '../../src/config/schema.ts'

/** `cairn start`'s own options (the node's, Anvil's, the state file's) parsed, its action not run. */
function configFrom(argv: string[]): NodeConfig {
  const program = new Command()
  registerStart(program)
  const start = program.commands.find((c) => c.name() === 'start') as Command
  start.exitOverride().action(() => {})
  start.parse(['--dev', ...argv], { from: 'user' })
  return loadConfig(nodeConfigInputs(start.opts(), {}))
}

type Outcome = 'effect' | 'accepted' | 'refused'
/** Anvil 1.7.1's flags (`anvil --help`), with a value where one is taken, and what Cairn does with each. */
const FLAGS: readonly [argv: string[], outcome: Outcome, check?: (c: NodeConfig) => void][] = [
  [['-a', '3'], 'effect', (c) => expect(c.dev_accounts.count).toBe(3)],
  [['--accounts', '3'], 'effect', (c) => expect(c.dev_accounts.count).toBe(3)],
  [['-b', '2'], 'effect', (c) => expect(c.blockTime).toBe(2)],
  [['--block-time', '2'], 'effect', (c) => expect(c.blockTime).toBe(2)],
  [['--blockTime', '2'], 'effect', (c) => expect(c.blockTime).toBe(2)],
  [['--balance', '7'], 'effect', (c) => expect(c.dev_accounts.balance).toBe(7n * 10n ** 18n)],
  [['--config-out', '/tmp/x.json'], 'effect'],
  [
    ['--derivation-path', "m/44'/60'/0'/1/"],
    'effect',
    (c) => expect(c.dev_accounts.derivationPath).toBe("m/44'/60'/0'/1"),
  ],
  [['--dump-state', '/tmp/s.json'], 'effect'],
  [['--hardfork', 'prague'], 'effect', (c) => expect(c.devChain.hardfork).toBe('prague')],
  [['--init', '/tmp/genesis.json'], 'effect', (c) => expect(c.genesis).toBe('/tmp/genesis.json')],
  [['--ipc'], 'refused'],
  [['--ipcpath', '/tmp/a.ipc'], 'refused'],
  [['-j', '0'], 'effect', (c) => expect(c.rpc.threads).toBe('auto')],
  [['--threads', '3'], 'effect', (c) => expect(c.rpc.threads).toBe(2)],
  [['--jobs', '1'], 'effect', (c) => expect(c.rpc.threads).toBe(0)],
  [['--load-state', '/tmp/s.json'], 'effect'],
  [['-m', 'test test test test test test test test test test test junk'], 'effect'],
  [['--max-persisted-states', '5'], 'accepted'],
  [['--max-transactions', '5'], 'refused'],
  [['--mixed-mining'], 'refused'],
  [['--mnemonic-random'], 'effect', (c) => expect(c.dev_accounts.mnemonic.split(' ')).toHaveLength(12)],
  [['--mnemonic-random', '24'], 'effect', (c) => expect(c.dev_accounts.mnemonic.split(' ')).toHaveLength(24)],
  [
    ['--mnemonic-seed-unsafe', '42'],
    'effect',
    (c) => expect(c.dev_accounts.mnemonic).toBe(configFrom(['--mnemonic-seed-unsafe', '42']).dev_accounts.mnemonic),
  ],
  [['--no-mining'], 'effect', (c) => expect(c.mining).toBe(false)],
  [['--no-mine'], 'effect', (c) => expect(c.mining).toBe(false)],
  [['--number', '0'], 'accepted'],
  [['--number', '100'], 'refused'],
  [['--order', 'fees'], 'effect'],
  [['-p', '9999'], 'effect', (c) => expect(c.http.port).toBe(9999)],
  [['--preserve-historical-states'], 'accepted'],
  [['--prune-history'], 'accepted'],
  [['--prune-history', '10'], 'accepted'],
  [['-s', '5'], 'effect'],
  [['--state-interval', '5'], 'effect'],
  [['--slots-in-an-epoch', '32'], 'accepted'],
  [['--state', '/tmp/s.json'], 'effect'],
  [['--timestamp', '1700000000'], 'effect', (c) => expect(c.devChain.timestamp).toBe(1_700_000_000n)],
  [['--transaction-block-keeper', '64'], 'accepted'],
  [['--color', 'never'], 'effect', (c) => expect(c.log.format).toBe('json')],
  [['--json'], 'effect', (c) => expect(c.log.format).toBe('json')],
  [['--md'], 'refused'],
  [['-q'], 'effect', (c) => expect(c.log.level).toBe('silent')],
  [['--quiet'], 'effect', (c) => expect(c.log.level).toBe('silent')],
  [['-vv'], 'effect', (c) => expect(c.log.level).toBe('debug')],
  [['-vvvv'], 'effect', (c) => expect(c.log.level).toBe('trace')],
  [
    ['--allow-origin', 'http://localhost:3000'],
    'effect',
    (c) => expect(c.http.cors).toEqual(['http://localhost:3000']),
  ],
  [['--cache-path', '/tmp/cache'], 'accepted'],
  [['--host', '0.0.0.0'], 'effect', (c) => expect(c.http.addr).toBe('0.0.0.0')],
  [['--no-cors'], 'effect', (c) => expect(c.http.cors).toEqual([])],
  [['--no-request-size-limit'], 'effect', (c) => expect(c.http.maxRequestBytes).toBe(2 ** 30)],
  [['--compute-units-per-second', '330'], 'accepted'],
  [['-f', 'http://127.0.0.1:8545'], 'effect', (c) => expect(c.fork.url).toBe('http://127.0.0.1:8545')],
  [['--fork-url', 'http://127.0.0.1:8545@7'], 'effect', (c) => expect(c.fork.blockNumber).toBe(7)],
  [['--rpc-url', 'http://127.0.0.1:8545'], 'effect', (c) => expect(c.fork.url).toBe('http://127.0.0.1:8545')],
  [['--fork-block-number', '7'], 'effect', (c) => expect(c.fork.blockNumber).toBe(7)],
  [['--fork-chain-id', '5'], 'effect', (c) => expect(c.fork.chainId).toBe(5)],
  [['--fork-header', 'User-Agent: x'], 'refused'],
  [['--fork-retry-backoff', '100'], 'effect', (c) => expect(c.fork.retryBackoffMs).toBe(100)],
  [['--fork-transaction-hash', `0x${'1'.repeat(64)}`], 'refused'],
  [['--no-rate-limit'], 'effect', (c) => expect(c.fork.requestsPerSecond).toBe(0)],
  [['--no-rpc-rate-limit'], 'effect', (c) => expect(c.fork.requestsPerSecond).toBe(0)],
  [['--no-storage-caching'], 'accepted'],
  [['--retries', '3'], 'effect', (c) => expect(c.fork.retries).toBe(3)],
  [['--timeout', '1000'], 'effect', (c) => expect(c.fork.timeoutMs).toBe(1000)],
  [['--block-base-fee-per-gas', '7'], 'effect', (c) => expect(c.devChain.baseFee).toBe(7n)],
  [['--base-fee', '7'], 'effect', (c) => expect(c.devChain.baseFee).toBe(7n)],
  [['--chain-id', '31337'], 'effect', (c) => expect(c.chainId).toBe(31337)],
  [['--code-size-limit', '50000'], 'effect', (c) => expect(c.devChain.codeSizeLimit).toBe(50_000n)],
  [['--disable-block-gas-limit'], 'effect', (c) => expect(c.devChain.disableBlockGasLimit).toBe(true)],
  [['--disable-code-size-limit'], 'effect', (c) => expect(c.devChain.disableCodeSizeLimit).toBe(true)],
  [['--disable-min-priority-fee'], 'accepted'],
  [['--no-priority-fee'], 'accepted'],
  [['--enable-tx-gas-limit'], 'accepted'],
  [['--tx-gas-limit'], 'accepted'],
  [['--gas-limit', '50000000'], 'effect', (c) => expect(c.devChain.gasLimit).toBe(50_000_000n)],
  [['--gas-price', '1'], 'accepted'],
  [['--auto-impersonate'], 'effect', (c) => expect(c.devChain.autoImpersonate).toBe(true)],
  [['--auto-unlock'], 'effect', (c) => expect(c.devChain.autoImpersonate).toBe(true)],
  [['--disable-console-log'], 'accepted'],
  [['--no-console-log'], 'accepted'],
  [['--disable-default-create2-deployer'], 'effect', (c) => expect(c.devChain.create2Deployer).toBe(false)],
  [['--no-create2'], 'effect', (c) => expect(c.devChain.create2Deployer).toBe(false)],
  [['--disable-pool-balance-checks'], 'refused'],
  [['--memory-limit', '1000000'], 'refused'],
  [['--print-traces'], 'effect'],
  [['--enable-trace-printing'], 'effect'],
  [['--steps-tracing'], 'effect', (c) => expect(c.stepsTracing).toBe(true)],
  [['--tracing'], 'effect', (c) => expect(c.stepsTracing).toBe(true)],
  [['--celo'], 'refused'],
  [['-n', 'ethereum'], 'accepted'],
  [['--network', 'optimism'], 'refused'],
]

describe("Anvil 1.7.1's flags on cairn start --dev", () => {
  it.each(FLAGS.map(([argv, outcome, check]) => ({ argv, outcome, check, name: argv.join(' ') })))('$name: $outcome', ({
    argv,
    outcome,
    check,
  }) => {
    if (outcome === 'refused') {
      let err: unknown
      try {
        configFrom(argv)
      } catch (e) {
        err = e
      }
      // Refused by Cairn with the reason (a CairnError), or by commander for a value it checks
      // (--network optimism) — in both cases naming the flag; never an unknown option.
      expect(err).toBeDefined()
      expect(String((err as Error).message)).not.toMatch(/unknown option/)
      if (err instanceof CommanderError) expect(err.message).toContain(argv[0] as string)
      else {
        expect(err).toBeInstanceOf(CairnError)
        expect((err as CairnError).message).toMatch(/not supported/)
        expect((err as CairnError).message).toContain((argv[0] as string).replace(/^--?/, ''))
      }
      return
    }
    const c = configFrom(argv)
    check?.(c)
  })

  it('counts 67 option names and 14 aliases, as anvil --help lists them', () => {
    const names = new Set(FLAGS.map(([argv]) => argv[0]))
    expect(names.size).toBeGreaterThanOrEqual(80)
  })

  it('a fork block given twice must agree', () => {
    expect(() => configFrom(['--fork-url', 'http://127.0.0.1:8545@7', '--fork-block-number', '8'])).toThrow(
      /@7 but --fork-block-number is 8/,
    )
  })
})
