import { createLogger, createMetricsRegistry, StopOnSignals } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { ConfigErrorCode } from '../../config/errors.ts'
import { Gateway, type GatewayShard } from '../../gateway/gateway.ts'
import { VERSION } from '../../version.ts'

export function bad(message: string, hint?: string): CairnError {
  return new CairnError(ConfigErrorCode.INVALID, message, { fault: 'caller', hint })
}

/** `--shard 0=http://127.0.0.1:8545`, repeatable. */
export function collectShard(value: string, previous: GatewayShard[]): GatewayShard[] {
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
