import { generateMnemonic, keccak256, mnemonicFromEntropy } from '@cairn/crypto'
import { DEFAULT_RPC_NAMESPACES, RPC_NAMESPACES } from '@cairn/rpc/namespaces'
import { CairnError } from '@cairn/utils'
import { type Command, Option } from 'commander'
import { ConfigErrorCode } from '../config/errors.ts'
import type { ConfigInputs } from '../config/load.ts'
import { addAnvilOptions, anvilConfigFlags, refusedAnvilFlag, splitForkUrl } from './anvil-options.ts'

/**
 * The node's config flags, shared by `cairn start` and `cairn config print` so both read the same
 * sources the same way.
 */
export function addNodeOptions(cmd: Command): Command {
  // --mine before Anvil's hidden --no-mine: declared first, it leaves `mine` unset unless given.
  return addAnvilOptions(
    cmd
      .option('--mine', 'proof of work: mine on this node (engine pow; with --miner.coinbase)')
      .option('--miner.threads <n>', 'proof of work: mining threads (default 1)')
      .option(
        '--miner.coinbase <address>',
        'proof of work: the address mined blocks pay (needed to mine or serve eth_getWork)',
      ),
  )
    .addOption(
      new Option(
        '--profile <profile>',
        'dev, test or prod (prod refuses insecure settings; default prod without --dev)',
      ).choices(['dev', 'test', 'prod']),
    )
    .option('--dev', 'dev chain: chain id 1337, 10 funded and unlocked accounts, blocks on demand')
    .option('--ephemeral', 'keep nothing: state lives in memory and is gone on exit')
    .option('--datadir <dir>', 'where the chain is kept (default ./.cairn/dev with --dev, ./.cairn/node otherwise)')
    .option('--config <file>', 'a TOML or JSON config file')
    .option('--genesis <file>', 'a geth-style genesis.json (needed once, for a new datadir)')
    .option('--http.addr <addr>', 'address the RPC listens on (default 127.0.0.1)')
    .option('--http.port <port>', 'port of HTTP and WebSocket JSON-RPC (default 8545; 0 = any free port)')
    .option(
      '-b, --block-time <seconds>',
      'seal a block every N seconds, empty ones included (default: when transactions arrive)',
    )
    .option(
      '--automine-batch',
      'automine paces sealing under load into bigger blocks (throughput; default: seal at once on arrival, as Anvil)',
    )
    .option('--no-mining', 'produce no blocks: serve the chain as it is (the head moves only by import)')
    .option('--reference', 'every speed shim off (same answers, slower): rules a shim in or out of a bug')
    .option(
      '--unsafe-skip-upgrades <names>',
      'scheduled upgrades to go through with this build instead of stopping at their height (comma list)',
    )
    .option('--follow', 'a read replica: produce nothing, sync from --p2p.bootnodes, serve RPC (turns p2p on)')
    .option(
      '--p2p.enabled [on]',
      'join the peer-to-peer network (default: on, off with --dev); --p2p.enabled false: a standalone node',
      (v: string) => !['false', 'off', '0', 'no'].includes(v.toLowerCase()),
    )
    .option('--p2p.port <port>', 'TCP port of the peer-to-peer network (default 30303; 0 = any free port)')
    .option('--p2p.addr <addr>', 'address the peer-to-peer network listens on (default 0.0.0.0)')
    .option('--p2p.bootnodes <multiaddrs>', 'peers to dial at start: comma list of /ip4/…/tcp/…/p2p/<peer id>')
    .option('--p2p.announce <multiaddrs>', 'addresses announced to peers instead of the listen address')
    .option('--p2p.max-peers <n>', 'most connected peers (default 50)')
    .option(
      '--p2p.max-peers-per-ip <n>',
      'most inbound connections from one IP at a time, those in their handshake included (default 8)',
    )
    .option('--p2p.inbound-rate-per-ip <n>', 'most new inbound connections from one IP within any second (default 5)')
    .option(
      '--p2p.max-pending-per-ip <n>',
      'most inbound connections from one IP still in their handshake (default 2; libp2p allows 64 in all)',
    )
    .option(
      '--p2p.handshake-timeout-ms <ms>',
      'an inbound connection whose handshake has not finished by then is dropped (default 5000)',
    )
    .option(
      '--p2p.limits-exempt <cidrs>',
      "addresses/CIDRs the per-IP limits skip, comma list (default 127.0.0.0/8,::1/128; '' for none)",
    )
    .option('--p2p.min-peers <n>', '/ready fails with fewer peers (default 0)')
    .option('--chain-id <id>', 'chain id of a new dev chain (default 1337)')
    .addOption(
      new Option('--log.level <level>', 'log level').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'silent',
      ]),
    )
    .addOption(new Option('--log.format <format>', 'log format').choices(['json', 'pretty', 'auto']))
    .option('--metrics.port <port>', 'also serve /metrics and /health on this port (metrics.host, default 127.0.0.1)')
    .option(
      '--cache.state <MiB>',
      'MiB of state-trie nodes kept in memory in front of the database (default 64; 0 for none)',
    )
    .option(
      '--rpc.allow-unprotected-txs',
      'accept pre-EIP-155 transactions (no chain id, replayable on any chain) over RPC (default: only in the dev profile)',
    )
    .option(
      '--rpc.testing',
      'serve the testing_ namespace (testing_buildBlockV1; admin role) (default: in the dev and test profiles, not in prod)',
    )
    .option(
      '--rpc.api <namespaces>',
      `namespaces served over HTTP and WebSocket, comma list, as geth's --http.api (default: all with --dev, else ${DEFAULT_RPC_NAMESPACES.join(',')}); known: ${RPC_NAMESPACES.join(', ')}`,
    )
    .option('-p, --port <port>', "Anvil's name of --http.port")
    .option('--host <addr>', "Anvil's name of --http.addr")
    .option('--silent', "Anvil's name of --log.level silent")
    .option(
      '-f, --fork-url <url>',
      "fork mode (dev): start at a remote node's block and read its state lazily over JSON-RPC (the remote must answer eth_getProof), as Anvil",
    )
    .option('--rpc-url <url>', "Anvil's other name of --fork-url")
    .option('--fork-block-number <n>', "fork mode: the remote block to fork from (default the remote's latest)")
    .option('--fork-chain-id <id>', "fork mode: the local chain id (default the remote's)")
    .option('--retries <n>', 'fork mode: attempts per request to the remote (default 5)')
    .option('--timeout <ms>', "fork mode: longest wait for one of the remote's answers in ms (default 45000)")
    .option(
      '--fork-requests-per-second <n>',
      'fork mode: most requests started per second toward the remote (default 0: no limit)',
    )
    .option(
      '--no-storage-caching',
      "accepted for Anvil's command lines: fetched state is kept only with the chain's own state",
    )
    .option(
      '--hardfork <name>',
      'dev: the fork a new dev chain runs: cancun, prague, osaka or latest (default osaka), as Anvil',
    )
    .option('--gas-limit <gas>', 'dev: the block gas limit of a new dev chain (default 30000000), as Anvil')
    .option('--disable-block-gas-limit', 'dev: a block gas limit too high to matter (2^63-1), as Anvil')
    .option(
      '--code-size-limit <bytes>',
      "dev: the contract code size limit (initcode twice it) instead of the fork's 24576, as Anvil",
    )
    .option('--disable-code-size-limit', 'dev: no contract code size limit, as Anvil')
    .option('--base-fee <wei>', "dev: a new dev chain's first base fee in wei (default 1 gwei), as Anvil")
    .option('--block-base-fee-per-gas <wei>', "Anvil's other name of --base-fee")
    .option(
      '--gas-price <wei>',
      "dev: Anvil's legacy gas price, which only pre-London rules use: accepted, no effect on Cairn's (London and later), as on Anvil's",
    )
    .option('--timestamp <seconds>', "dev: a new dev chain's genesis timestamp, as Anvil")
    .option(
      '--auto-impersonate',
      'dev: every sender impersonated from the start (anvil_autoImpersonateAccount), as Anvil',
    )
    .option('--order <order>', "dev: the sealing order; 'fees' only (highest tip first), as Anvil's default")
    .option('--steps-tracing', 'accepted for Anvil: debug_trace* gives the steps whenever asked (nothing to turn on)')
    .option('-a, --accounts <n>', 'dev accounts to fund and unlock (default 10), as Anvil')
    .option('--balance <ether>', "each dev account's balance in whole ether (default 10000), as Anvil")
    .option('-m, --mnemonic <phrase>', "the dev accounts' BIP-39 mnemonic (default test test … junk), as Anvil")
    .option(
      '--rpc.evm-timeout-ms <ms>',
      "time limit of one eth_call, eth_estimateGas or eth_simulateV1 in ms (default 5000, geth's --rpc.evmtimeout)",
    )
    .option(
      '--rpc.threads <n>',
      'worker threads answering HTTP reads (eth_getBalance, eth_call, blocks, receipts, logs…) beside the main thread: a number, 0 for none, or auto (the default: one per core but one, at least 1, at most 8, where Node ≥ 22.12 lets them listen on the port themselves; else none); none with --ephemeral',
    )
    .option(
      '--rpc.no-thread-listeners',
      'read threads do not listen on the RPC port themselves (they do by default where Node ≥ 22.12 on Linux shares the port): the main thread takes every request and hands reads over',
    )
    .option(
      '--rpc.client-version <version>',
      "what web3_clientVersion answers (e.g. anvil/v1.7.1 for Hardhat's network helpers; default Cairn/v…)",
    )
}

/** The config loader's inputs from parsed flags and the process environment. */
export function nodeConfigInputs(opts: Record<string, unknown>, env: Record<string, string | undefined>): ConfigInputs {
  const refused = refusedAnvilFlag(opts)
  if (refused) throw new CairnError(ConfigErrorCode.INVALID, refused, { fault: 'caller' })
  const fork = forkFlags(opts)
  const own: Record<string, unknown> = {
    profile: opts.profile,
    dev: opts.dev,
    ephemeral: opts.ephemeral,
    datadir: opts.datadir,
    genesis: opts.genesis,
    'http.addr': opts['http.addr'] ?? opts.host,
    'http.port': opts['http.port'] ?? opts.port,
    blockTime: opts.blockTime,
    automineBatch: opts.automineBatch,
    // commander defaults a --no-x flag to true: only an explicit --no-mining is a flag value.
    mining: opts.mining === false || opts.mine === false ? false : undefined,
    chainId: opts.chainId,
    'miner.enabled': opts.mine === true ? true : undefined,
    'miner.threads': opts['miner.threads'],
    'miner.coinbase': opts['miner.coinbase'],
    follow: opts.follow,
    reference: opts.reference,
    unsafeSkipUpgrades: opts.unsafeSkipUpgrades,
    'p2p.enabled': opts['p2p.enabled'],
    'p2p.port': opts['p2p.port'],
    'p2p.addr': opts['p2p.addr'],
    'p2p.bootnodes': opts['p2p.bootnodes'],
    'p2p.announce': opts['p2p.announce'],
    'p2p.maxPeers': opts['p2p.maxPeers'],
    'p2p.maxPeersPerIp': opts['p2p.maxPeersPerIp'],
    'p2p.inboundRatePerIp': opts['p2p.inboundRatePerIp'],
    'p2p.maxPendingPerIp': opts['p2p.maxPendingPerIp'],
    'p2p.handshakeTimeoutMs': opts['p2p.handshakeTimeoutMs'],
    'p2p.limitsExempt': opts['p2p.limitsExempt'],
    'p2p.minPeers': opts['p2p.minPeers'],
    'log.level': opts['log.level'] ?? (opts.silent === true ? 'silent' : undefined),
    'log.format': opts['log.format'],
    'metrics.port': opts['metrics.port'],
    'cache.state': opts['cache.state'],
    'rpc.allowUnprotectedTxs': opts['rpc.allowUnprotectedTxs'],
    'rpc.testing': opts['rpc.testing'],
    'rpc.api': opts['rpc.api'],
    'rpc.clientVersion': opts['rpc.clientVersion'],
    'rpc.evmTimeoutMs': opts['rpc.evmTimeoutMs'],
    'rpc.threads': opts['rpc.threads'],
    'rpc.threadListeners': opts['rpc.noThreadListeners'] === true ? false : undefined,
    'fork.url': fork.url,
    'fork.blockNumber': fork.blockNumber,
    'fork.chainId': opts.forkChainId,
    'fork.retries': opts.retries,
    'fork.timeoutMs': opts.timeout,
    'fork.requestsPerSecond': opts.forkRequestsPerSecond,
    // commander defaults a --no-x flag to true: only an explicit --no-storage-caching is a value.
    'fork.noStorageCaching': opts.storageCaching === false ? true : undefined,
    'devChain.hardfork': opts.hardfork,
    'devChain.gasLimit': opts.gasLimit,
    'devChain.disableBlockGasLimit': opts.disableBlockGasLimit,
    'devChain.codeSizeLimit': opts.codeSizeLimit,
    'devChain.disableCodeSizeLimit': opts.disableCodeSizeLimit,
    'devChain.baseFee': opts.baseFee ?? opts.blockBaseFeePerGas,
    'devChain.gasPrice': opts.gasPrice,
    'devChain.timestamp': opts.timestamp,
    'devChain.autoImpersonate': opts.autoImpersonate ?? opts.autoUnlock,
    'devChain.order': opts.order,
    stepsTracing: opts.stepsTracing ?? opts.tracing,
    'dev_accounts.count': opts.accounts,
    'dev_accounts.balance': etherToWei(opts.balance),
    'dev_accounts.mnemonic': opts.mnemonic ?? anvilMnemonic(opts),
  }
  // Anvil's flags fill what Cairn's own flags leave unset (an explicit Cairn flag wins).
  for (const [key, value] of Object.entries(anvilConfigFlags(opts))) if (own[key] === undefined) own[key] = value
  return { file: opts.config as string | undefined, env, flags: own }
}

/** `--fork-url URL@N` (Anvil's form) or `--fork-url URL --fork-block-number N`; both must agree. */
function forkFlags(opts: Record<string, unknown>): { url: unknown; blockNumber: unknown } {
  const given = opts.forkUrl ?? opts.rpcUrl
  if (typeof given !== 'string') return { url: given, blockNumber: opts.forkBlockNumber }
  const split = splitForkUrl(given)
  const flag = opts.forkBlockNumber
  if (split.blockNumber !== undefined && flag !== undefined && BigInt(String(flag)) !== BigInt(split.blockNumber)) {
    throw new CairnError(
      ConfigErrorCode.INVALID,
      `--fork-url ends in @${split.blockNumber} but --fork-block-number is ${String(flag)}`,
      { fault: 'caller', hint: 'give the block once: URL@N or --fork-block-number N' },
    )
  }
  return { url: split.url, blockNumber: flag ?? split.blockNumber }
}

/**
 * Anvil's `--mnemonic-random [words]` (a new mnemonic, printed in the banner) and
 * `--mnemonic-seed-unsafe <seed>` (the same mnemonic for the same seed: the first 16 bytes of the
 * seed's keccak-256 as entropy; not Anvil's words for that seed).
 */
function anvilMnemonic(opts: Record<string, unknown>): string | undefined {
  const random = opts.mnemonicRandom
  if (random !== undefined) {
    const words = random === true ? 12 : Number(random)
    if (words !== 12 && words !== 24) {
      throw new CairnError(ConfigErrorCode.INVALID, `--mnemonic-random ${String(random)}: 12 or 24 words`, {
        fault: 'caller',
      })
    }
    return generateMnemonic(words === 24 ? 256 : 128)
  }
  const seed = opts.mnemonicSeedUnsafe
  if (seed === undefined) return undefined
  return mnemonicFromEntropy(keccak256(new TextEncoder().encode(String(seed))).subarray(0, 16))
}

/** `--balance` is in whole ether as Anvil's; the config key is in wei. Anything else is left for the schema to refuse. */
function etherToWei(v: unknown): unknown {
  return typeof v === 'string' && /^\d{1,30}$/.test(v) ? (BigInt(v) * 10n ** 18n).toString() : v
}
