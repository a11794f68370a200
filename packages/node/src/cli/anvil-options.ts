import { type Command, InvalidArgumentError, Option } from 'commander'

/**
 * Anvil's command-line flags that `cairn start` takes besides its own (node-options.ts holds those
 * Anvil shares a name with): each one either takes effect, is accepted because Cairn already does
 * what it asks (said in its help), or is refused with the reason — never "unknown option" for a
 * flag Anvil 1.7.1 documents. `docs/api/anvil-flags.md` is the table; anvil-flags.e2e.test.ts and
 * anvil-options.test.ts check it.
 */
export function addAnvilOptions(cmd: Command): Command {
  const group = (o: Option) => o.helpGroup("Anvil's flags:")
  const flag = (flags: string, description: string) => group(new Option(flags, description))
  const hidden = (flags: string) => new Option(flags).hideHelp()
  return (
    cmd
      // Aliases Anvil lists beside flags Cairn already has.
      .addOption(hidden('--blockTime <seconds>'))
      .addOption(hidden('--tracing'))
      .addOption(hidden('--auto-unlock'))
      .addOption(hidden('--no-mine'))
      .addOption(hidden('--enable-trace-printing'))
      .addOption(hidden('--no-rpc-rate-limit'))
      .addOption(hidden('--ipcpath [path]'))
      .addOption(hidden('--jobs <n>'))
      .addOption(hidden('--no-priority-fee'))
      .addOption(hidden('--tx-gas-limit'))
      .addOption(hidden('--no-console-log'))
      .addOption(hidden('--no-create2'))
      // Accounts.
      .addOption(
        flag('--derivation-path <path>', "dev: the accounts' BIP-32 base path (default m/44'/60'/0'/0/), as Anvil"),
      )
      .addOption(
        flag(
          '--mnemonic-random [words]',
          'dev: accounts from a new random BIP-39 mnemonic of 12 or 24 words, as Anvil',
        ),
      )
      .addOption(
        flag(
          '--mnemonic-seed-unsafe <seed>',
          'dev: accounts from a mnemonic derived from a number (testing only: anyone can derive the keys)',
        ),
      )
      .addOption(flag('--config-out <file>', "write the accounts, keys and chain settings as Anvil's JSON to FILE"))
      // Genesis.
      .addOption(flag('--init <genesis.json>', "dev: start a new chain from a geth genesis file (Cairn's --genesis)"))
      .addOption(
        flag(
          '--number <n>',
          'the genesis block number: only 0 (refused otherwise: the chain starts at block 0; --fork-url starts at a remote height)',
        ),
      )
      // State history: Cairn keeps every state on disk (memory with --ephemeral) and answers past blocks.
      .addOption(
        flag(
          '--prune-history [states]',
          'accepted: Cairn keeps past states in its database and answers historical reads (Anvil drops them)',
        ),
      )
      .addOption(flag('--max-persisted-states <n>', 'accepted: past states live in the database, not in memory'))
      .addOption(flag('--preserve-historical-states', 'accepted: --dump-state files hold the latest state'))
      .addOption(flag('--transaction-block-keeper <n>', 'accepted: every block and transaction is kept'))
      .addOption(flag('--cache-path <dir>', 'accepted: the datadir (--datadir) holds every state'))
      .addOption(
        flag('-s, --state-interval <seconds>', 'also write --dump-state / --state FILE every N seconds, as Anvil'),
      )
      // Mining.
      .addOption(flag('--mixed-mining', 'refused: sealing is on arrival or every --block-time, not both (choose one)'))
      .addOption(
        flag('--max-transactions <n>', 'refused: a block holds what fits its gas limit (lower it with --gas-limit)'),
      )
      .addOption(
        flag(
          '--slots-in-an-epoch <n>',
          'accepted: a dev chain finalizes every block it seals, so safe and finalized are the head',
        ),
      )
      // Output.
      .addOption(flag('-q, --quiet', 'print no log messages (--log.level silent)'))
      .addOption(flag('--json', 'log messages as JSON lines (--log.format json)'))
      .addOption(flag('--md', 'refused: log messages are JSON or pretty text (--log.format)'))
      .addOption(
        flag('--color <when>', 'colour of pretty logs: auto, always or never (never: JSON lines)').choices([
          'auto',
          'always',
          'never',
        ]),
      )
      .addOption(
        flag('-v, --verbosity', 'more log detail: -vv debug, -vvvv trace (Anvil counts the v)').argParser(
          (_v: string, previous: number | undefined) => (previous ?? 0) + 1,
        ),
      )
      .addOption(
        flag(
          '--print-traces',
          'print the call trace of each mined transaction to stdout (debug_traceTransaction, callTracer), as Anvil',
        ),
      )
      // Server.
      .addOption(flag('--allow-origin <origin>', 'an origin browsers may call from (http.cors; Anvil: *)'))
      .addOption(flag('--no-cors', 'no cross-origin calls from browsers (http.cors empty: the default)'))
      .addOption(flag('--no-request-size-limit', 'requests of any size up to 1 GiB (HTTP bodies, WebSocket messages)'))
      .addOption(
        flag(
          '--ipc [path]',
          'refused: JSON-RPC is served over HTTP and WebSocket (--http.port); a Unix socket is not served',
        ),
      )
      .addOption(
        flag('-j, --threads <n>', 'threads answering RPC reads: 0 for one per core (--rpc.threads auto), as Anvil'),
      )
      // Fork.
      .addOption(
        flag('--fork-header <header>', 'refused: the remote is called without extra headers (put a key in the URL)'),
      )
      .addOption(
        flag('--fork-retry-backoff <ms>', 'fork mode: first wait before a retry, doubled each time (default 200)'),
      )
      .addOption(
        flag('--fork-transaction-hash <hash>', 'refused: fork at a block (--fork-block-number), not inside one'),
      )
      .addOption(
        flag(
          '--compute-units-per-second <cups>',
          'accepted: the remote is limited in requests (--fork-requests-per-second), not compute units',
        ),
      )
      .addOption(flag('--no-rate-limit', 'no limit on requests to the remote (--fork-requests-per-second 0)'))
      // Environment and EVM.
      .addOption(
        flag(
          '--disable-min-priority-fee',
          'accepted: eth_maxPriorityFeePerGas follows the tips of recent blocks (no floor of its own)',
        ),
      )
      .addOption(
        flag(
          '--enable-tx-gas-limit',
          "accepted: Osaka's per-transaction gas cap (EIP-7825) applies whenever the chain runs Osaka",
        ),
      )
      .addOption(
        flag('--disable-console-log', 'accepted: console.log calls of contracts are not printed (nothing to turn off)'),
      )
      .addOption(
        flag('--disable-default-create2-deployer', 'dev: no CREATE2 deployer predeployed at 0x4e59…956C, as Anvil'),
      )
      .addOption(
        flag('--disable-pool-balance-checks', 'refused: the pool refuses a transaction its sender cannot pay for'),
      )
      .addOption(flag('--memory-limit <bytes>', 'refused: EVM memory is bounded by gas, as on Ethereum'))
      .addOption(flag('--celo', 'refused: Celo is not supported'))
      .addOption(
        flag('-n, --network <family>', 'ethereum only (optimism and tempo are refused)').argParser((v: string) => {
          if (v !== 'ethereum') throw new InvalidArgumentError(`${v}: only the ethereum family is supported`)
          return v
        }),
      )
  )
}

/**
 * Anvil's flags that Cairn refuses, each with the reason (the flag's value as commander keeps it,
 * then why). A refusal is the caller's error: `cairn start` exits 2 naming the flag.
 */
const REFUSED: readonly { key: string; flag: string; why: string }[] = [
  {
    key: 'mixedMining',
    flag: '--mixed-mining',
    why: 'sealing is on arrival (default) or every --block-time, not both',
  },
  {
    key: 'maxTransactions',
    flag: '--max-transactions',
    why: 'a block holds what fits its gas limit: lower --gas-limit',
  },
  { key: 'md', flag: '--md', why: 'logs are JSON lines or pretty text: --json or --log.format pretty' },
  { key: 'ipc', flag: '--ipc', why: 'JSON-RPC is served over HTTP and WebSocket on --http.port, not a Unix socket' },
  {
    key: 'ipcpath',
    flag: '--ipcpath',
    why: 'JSON-RPC is served over HTTP and WebSocket on --http.port, not a Unix socket',
  },
  {
    key: 'forkHeader',
    flag: '--fork-header',
    why: 'the remote is called without extra headers: put an API key in the URL',
  },
  {
    key: 'forkTransactionHash',
    flag: '--fork-transaction-hash',
    why: 'a fork starts at a block (--fork-block-number, or URL@N), not inside one',
  },
  {
    key: 'disablePoolBalanceChecks',
    flag: '--disable-pool-balance-checks',
    why: 'the pool refuses a transaction its sender cannot pay for (fund it with anvil_setBalance)',
  },
  { key: 'memoryLimit', flag: '--memory-limit', why: 'EVM memory is bounded by gas, as on Ethereum' },
  { key: 'celo', flag: '--celo', why: 'Celo is not supported' },
]

/** What `opts` asks that Cairn cannot do: the first refusal's message, or undefined. */
export function refusedAnvilFlag(opts: Record<string, unknown>): string | undefined {
  for (const r of REFUSED) if (opts[r.key] !== undefined) return `${r.flag} is not supported: ${r.why}`
  const n = opts.number
  if (n !== undefined && !/^0+$/.test(String(n)) && !/^0x0*$/i.test(String(n))) {
    return `--number ${String(n)} is not supported: a Cairn chain starts at block 0 (--fork-url URL@N starts at a remote's block N)`
  }
  return undefined
}

/** `URL@N` (Anvil's fork URL with a block number): the URL and the number, or the URL alone. */
export function splitForkUrl(url: string): { url: string; blockNumber?: string } {
  const m = /^(https?:\/\/.+)@(\d+)$/.exec(url)
  return m ? { url: m[1] as string, blockNumber: m[2] as string } : { url }
}

/** The config keys Anvil's flags set (merged under Cairn's own flags: an explicit Cairn flag wins). */
export function anvilConfigFlags(opts: Record<string, unknown>): Record<string, unknown> {
  const verbosity = typeof opts.verbosity === 'number' ? opts.verbosity : 0
  const level = opts.quiet === true ? 'silent' : verbosity >= 4 ? 'trace' : verbosity >= 2 ? 'debug' : undefined
  const format = opts.json === true || opts.color === 'never' ? 'json' : opts.color === 'always' ? 'pretty' : undefined
  const threads = opts.threads ?? opts.jobs
  return {
    'log.level': level,
    'log.format': format,
    'dev_accounts.derivationPath': opts.derivationPath,
    genesis: opts.init,
    // commander defaults a --no-x flag to true: only an explicit --no-cors is a value.
    'http.cors': opts.cors === false ? '' : opts.allowOrigin,
    'http.maxRequestBytes': opts.requestSizeLimit === false ? 2 ** 30 : undefined,
    'rpc.threads':
      threads === undefined ? undefined : Number(threads) === 0 ? 'auto' : Math.max(0, Number(threads) - 1),
    'fork.retryBackoffMs': opts.forkRetryBackoff,
    'fork.requestsPerSecond': opts.rateLimit === false || opts.rpcRateLimit === false ? 0 : undefined,
    'devChain.create2Deployer':
      opts.disableDefaultCreate2Deployer === true || opts.create2 === false ? false : undefined,
  }
}
