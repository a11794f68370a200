import { createLogger, createMetricsRegistry, StopOnSignals } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { ConfigErrorCode } from '../../config/errors.ts'
import { Gateway, type GatewayShard } from '../../gateway/gateway.ts'
import { Relayer } from '../../gateway/relayer.ts'
import { VERSION } from '../../version.ts'

function bad(message: string, hint?: string): CairnError {
  return new CairnError(ConfigErrorCode.INVALID, message, { fault: 'caller', hint })
}

/** `--shard 0=http://127.0.0.1:8545`, repeatable. */
function collectShard(value: string, previous: GatewayShard[]): GatewayShard[] {
  const m = /^(\d{1,4})=(https?:\/\/\S+)$/.exec(value.trim())
  if (!m)
    throw bad(
      `--shard ${JSON.stringify(value.slice(0, 80))}: expected <id>=<url>`,
      'e.g. --shard 0=http://127.0.0.1:8545',
    )
  const id = Number(m[1])
  if (previous.some((s) => s.id === id)) throw bad(`--shard ${id} is given twice`)
  try {
    new URL(m[2] as string)
  } catch {
    throw bad(`--shard ${id}: ${m[2]} is not a URL`)
  }
  return [...previous, { id, url: m[2] as string }]
}

function port(value: string): number {
  const n = Number(value)
  if (!/^\d{1,5}$/.test(value) || n > 65_535) throw bad(`--port ${JSON.stringify(value)}: expected 0..65535`)
  return n
}

/** Registers `cairn gateway`. */
export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('one JSON-RPC endpoint for a sharded network (routes by sender, address and hash)')
    .option(
      '--shard <id=url>',
      'a shard and its JSON-RPC URL (repeat for each; ids 0..n−1, 0 the coordinating shard)',
      collectShard,
      [],
    )
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the port to listen on', port, 8600)
    .addHelpText(
      'after',
      `
The root endpoint routes each request: eth_sendRawTransaction to the sender's home shard (its chain
id must be that shard's), reads keyed by an address (eth_getBalance, eth_call by "to", eth_getLogs
of one address …) to that address's shard, lookups by transaction hash to whichever shard has it,
and everything else (blocks, eth_chainId, fees) to shard 0. /shard/<n> passes everything through to
shard n: point viem or ethers at it for one shard's blocks. Its own methods: cairn_getShardInfo,
cairn_shardOf(address). GET /metrics, GET /health.

Example:
  $ cairn gateway --shard 0=http://127.0.0.1:8545 --shard 1=http://127.0.0.1:8555 --port 8600`,
    )
    .action(async (opts: { shard: GatewayShard[]; host: string; port: number }) => {
      if (opts.shard.length === 0) throw bad('no shards: give each with --shard <id>=<url>')
      const stopper = new StopOnSignals()
      const logger = createLogger({ level: 'info', format: 'auto', onBrokenPipe: stopper.onBrokenPipe })
      const metrics = createMetricsRegistry({ version: VERSION, commit: 'unknown' })
      const gateway = new Gateway({ shards: opts.shard, host: opts.host, port: opts.port }, { logger, metrics })
      const url = await gateway.start()
      process.stdout.write(`gateway on ${url} for ${opts.shard.length} shards\n`)
      stopper.arm(logger, () => gateway.stop())
    })
}

/** `--key 0x…`, repeatable. */
function collectKey(value: string, previous: `0x${string}`[]): `0x${string}`[] {
  const v = value.trim()
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(v)) throw bad('--key: expected a 32-byte private key in hex')
  return [...previous, (v.startsWith('0x') ? v : `0x${v}`) as `0x${string}`]
}

/** Registers `cairn relayer`. */
export function registerRelayer(program: Command): void {
  program
    .command('relayer')
    .description('carry cross-shard messages and their receipts between shards (anyone may run one)')
    .option(
      '--shard <id=url>',
      "a shard and its JSON-RPC URL (repeat for each of the network's shards)",
      collectShard,
      [],
    )
    .option(
      '--key <hex>',
      'a private key that pays for relay transactions (repeat: one living on each shard)',
      collectKey,
      [],
    )
    .option('--dev-keys', "the dev mnemonic's ten accounts as keys (a devnet's, funded on every shard)")
    .option('--poll-ms <ms>', 'pause between turns', (v: string) => Number(v), 1000)
    .addHelpText(
      'after',
      `
For every pair of shards it brings each destination's light client of the source up to the
source's finalized head, delivers the messages the source sent (receiveMessage with eth_getProof of
their commitments) and settles their receipts back on the source (acknowledged, or refunded). It
trusts no shard: the bridges check every header's certificate and every proof. Transactions on shard
k are paid by the first key whose address lives on shard k.

Example:
  $ cairn relayer --shard 0=http://127.0.0.1:8546 --shard 1=http://127.0.0.1:8547 --dev-keys`,
    )
    .action(async (opts: { shard: GatewayShard[]; key: `0x${string}`[]; devKeys?: boolean; pollMs: number }) => {
      if (opts.shard.length < 2) throw bad('a relayer needs at least two shards: give each with --shard <id>=<url>')
      const keys = [...opts.key]
      if (opts.devKeys) {
        const { devAccounts, DEFAULT_DEV_MNEMONIC } = await import('../../dev-accounts.ts')
        for (const a of devAccounts(DEFAULT_DEV_MNEMONIC, 10))
          keys.push(`0x${Buffer.from(a.privateKey).toString('hex')}`)
      }
      if (keys.length === 0) throw bad('no keys: give --key <hex> (one living on each shard) or --dev-keys')
      const stopper = new StopOnSignals()
      const logger = createLogger({ level: 'info', format: 'auto', onBrokenPipe: stopper.onBrokenPipe })
      const relayer = new Relayer({ shards: opts.shard, keys, pollMs: opts.pollMs }, { logger })
      await relayer.connect()
      relayer.start()
      process.stdout.write(`relayer between ${opts.shard.length} shards\n`)
      stopper.arm(logger, () => relayer.stop())
    })
}
