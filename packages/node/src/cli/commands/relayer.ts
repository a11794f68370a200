/**
 * `cairn relayer`: the relayer of `gateway/relayer.ts` as a process of its own (anyone may run one;
 * `cairn devnet start` runs one beside the gateway).
 */
import { createLogger, StopOnSignals } from '@cairn/service-kit'
import type { Command } from 'commander'
import type { GatewayShard } from '../../gateway/gateway.ts'
import { Relayer } from '../../gateway/relayer.ts'
import { bad, collectShard } from './gateway.ts'

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
    .description('carry cross-shard messages and their receipts between shards')
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
