import { Chain } from '@cairn/chain'
import { devChainRules } from '@cairn/consensus'
import { LevelKV } from '@cairn/db'
import { silentLogger } from '@cairn/utils'
import type { Command } from 'commander'
import { prepareDatadir } from '../../datadir.ts'
import { readGenesisFile } from '../../genesis-file.ts'

/** Registers `cairn init`. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a new chain in a datadir from a genesis file')
    .requiredOption('--genesis <file>', 'a geth-style genesis.json')
    .requiredOption('--datadir <dir>', 'the datadir to create the chain in')
    .addHelpText('after', '\nExample:\n  $ cairn init --genesis genesis.json --datadir ./mychain\n')
    .action(async (opts: { genesis: string; datadir: string }) => {
      const json = readGenesisFile(opts.genesis)
      const layout = prepareDatadir(opts.datadir)
      const kv = new LevelKV({ path: layout.chaindata })
      await kv.open()
      try {
        const chain = await Chain.open(
          { genesis: json, genesisSource: opts.genesis },
          {
            kv,
            logger: silentLogger,
            metrics: null,
            engine: devChainRules,
          },
        )
        const verb = chain.report.created ? 'initialised' : 'already holds'
        process.stdout.write(
          `${layout.root} ${verb} chain ${chain.chainId} with genesis ${Buffer.from(chain.genesisBlock.hash()).toString('hex')}\n`,
        )
      } finally {
        await kv.close()
      }
    })
}
