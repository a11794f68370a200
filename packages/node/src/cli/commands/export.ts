import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { encodeChainFileBlock, openStoredChain } from '@cairn/chain'
import { LevelKV } from '@cairn/db'
import { CairnError } from '@cairn/utils'
import { type Command, InvalidArgumentError } from 'commander'
import { datadirLayout } from '../../datadir.ts'
import { NodeErrorCode } from '../../errors.ts'
import { devNodeGenesis } from '../../node-genesis.ts'

function blockNumber(v: string): bigint {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a block number')
  return BigInt(v)
}

/** Registers `cairn export`. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write the canonical chain to FILE in geth's RLP chain-file format (the node must be stopped)")
    .argument('<file>', 'the chain file to write')
    .requiredOption('--datadir <dir>', 'the datadir to export from')
    .option('--from <n>', 'first block (default 0)', blockNumber)
    .option('--to <n>', 'last block (default: the head)', blockNumber)
    .option('--genesis-out <file>', "also write the chain's genesis.json (what `cairn import --genesis` needs)")
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn export chain.rlp --datadir ./.cairn/dev\n  $ cairn import chain.rlp --datadir ./copy --genesis genesis.json\n',
    )
    .action(async (file: string, opts: { datadir: string; from?: bigint; to?: bigint; genesisOut?: string }) => {
      const kv = new LevelKV({ path: datadirLayout(opts.datadir).chaindata })
      await kv.open()
      try {
        const { blocks, genesisJson } = await openStoredChain(kv)
        const headHash = await blocks.getHeadHash('latest')
        const head = headHash ? await blocks.getHeader(headHash) : undefined
        const from = opts.from ?? 0n
        const to = opts.to ?? head?.number ?? 0n
        if (!head || to > head.number || from > to) {
          throw new CairnError(
            NodeErrorCode.EXPORT_RANGE_INVALID,
            `cannot export blocks ${from}..${to}: the head is ${head?.number ?? 'missing'}`,
            {
              fault: 'caller',
              hint: 'choose --from ≤ --to ≤ the head',
            },
          )
        }
        const fd = openSync(file, 'w', 0o644)
        let bytes = 0
        try {
          for (let n = from; n <= to; n++) {
            const block = await blocks.getBlockByNumber(n)
            if (!block) {
              throw new CairnError(NodeErrorCode.EXPORT_BLOCK_MISSING, `block ${n} is not stored`, {
                hint: 'run `cairn db check`',
              })
            }
            bytes += writeSync(fd, encodeChainFileBlock(block))
          }
        } finally {
          closeSync(fd)
        }
        process.stdout.write(`exported blocks ${from}..${to} (${to - from + 1n} blocks, ${bytes} bytes) to ${file}\n`)
        if (opts.genesisOut)
          writeFileSync(opts.genesisOut, `${JSON.stringify(genesisJson, null, 2)}\n`, { mode: 0o644 })
        process.stdout.write(
          `${importAdvice(file, genesisJson, (await blocks.getBlockByNumber(0n))?.hash(), opts.genesisOut)}\n`,
        )
      } finally {
        await kv.close()
      }
    })
}

/**
 * Which genesis the exported file needs and the import line that gives it: `--dev` when the chain
 * was started from the default dev genesis, else the genesis.json (written by `--genesis-out`).
 */
function importAdvice(file: string, stored: unknown, genesisHash: Uint8Array | undefined, genesisOut?: string): string {
  const hash = genesisHash ? `0x${Buffer.from(genesisHash).toString('hex')}` : 'unknown'
  const chainId = (stored as { config?: { chainId?: unknown } }).config?.chainId
  const isDev = JSON.stringify(stored) === JSON.stringify(devNodeGenesis(process.env))
  const head = `the file needs genesis ${hash} (chain id ${String(chainId)})`
  if (isDev) return `${head}, the dev genesis: import it with \`cairn import ${file} --dev --datadir DIR\``
  const genesisArg = genesisOut ?? 'GENESIS.json'
  return `${head}: import it with \`cairn import ${file} --datadir DIR --genesis ${genesisArg}\`${genesisOut ? '' : ' (write that file with --genesis-out)'}`
}
