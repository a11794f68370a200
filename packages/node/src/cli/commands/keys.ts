import { join } from 'node:path'
import { openStoredChain } from '@cairn/chain'
import { scheduleValidatorRotation } from '@cairn/consensus/validator-keys'
import { LevelKV } from '@cairn/db'
import { type Command, InvalidArgumentError } from 'commander'
import { datadirLayout } from '../../datadir.ts'

function height(v: string): bigint {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a block height')
  return BigInt(v)
}

/** Registers `cairn keys`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("manage the node's own keys (identity, validator)")
  keys
    .command('rotate-validator')
    .description('create a new validator key that takes over at a height; the old one signs until then (node stopped)')
    .requiredOption('--datadir <dir>', 'the datadir whose validator key to rotate')
    .requiredOption('--at-height <n>', 'first block signed by the new key', height)
    .addHelpText(
      'after',
      '\nExample:\n  $ cairn keys rotate-validator --datadir ./mychain --at-height 120000\n\nBack up DATADIR/keys/ afterwards: it holds both keys until the rotation completes.\n',
    )
    .action(async (opts: { datadir: string; atHeight: bigint }) => {
      const layout = datadirLayout(opts.datadir)
      const kv = new LevelKV({ path: layout.chaindata })
      await kv.open()
      let head: bigint
      try {
        const { blocks } = await openStoredChain(kv)
        const hash = await blocks.getHeadHash('latest')
        head = (hash ? (await blocks.getHeader(hash))?.number : undefined) ?? 0n
      } finally {
        await kv.close()
      }
      const rotation = scheduleValidatorRotation(join(layout.root, 'keys'), opts.atHeight, head)
      process.stdout.write(
        `validator key ${rotation.current.address} signs until block ${opts.atHeight - 1n}; ` +
          `${rotation.next?.key.address} from block ${opts.atHeight} (head is ${head})\n`,
      )
    })
}
