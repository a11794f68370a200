import { Chain, type ChainEngine, readChainFile } from '@cairn/chain'
import { LevelKV } from '@cairn/db'
import { silentLogger } from '@cairn/utils'
import type { Command } from 'commander'
import { prepareDatadir } from '../../datadir.ts'
import { readGenesisFile } from '../../genesis-file.ts'

/**
 * The rules `cairn import` runs under after the merge: blocks from a file carry no seal Cairn
 * checks yet; the longest chain wins. Proof-of-work blocks follow the chain's own PoW-era rules
 * (difficulty, uncles, rewards: @cairn/chain's pow.ts), whatever the engine.
 */
export const importEngine: ChainEngine = {
  name: 'import',
  validateHeader: async () => {},
  finalize: async () => {},
  preferHead: async (candidate, current) => candidate.number > current.number,
  safeNumber: (h) => h.number,
  finalizedNumber: (h) => h.number,
}

/** Registers `cairn import`. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      "import blocks from an RLP chain file (geth's format), validating and executing each (the node must be stopped)",
    )
    .argument('<file>', 'the chain file to read')
    .requiredOption('--datadir <dir>', 'the datadir to import into')
    .option('--genesis <file>', 'the genesis, for a datadir that holds no chain yet')
    .addHelpText('after', '\nExample:\n  $ cairn import chain.rlp --datadir ./copy --genesis genesis.json\n')
    .action(async (file: string, opts: { datadir: string; genesis?: string }) => {
      const genesis = opts.genesis ? readGenesisFile(opts.genesis) : undefined
      const layout = prepareDatadir(opts.datadir)
      const kv = new LevelKV({ path: layout.chaindata })
      await kv.open()
      try {
        const chain = await Chain.open(
          { ...(genesis !== undefined ? { genesis, genesisSource: opts.genesis } : {}) },
          { kv, engine: importEngine, logger: silentLogger, metrics: null },
        )
        const { imported, known } = await importChainFile(chain, file)
        const head = chain.head
        process.stdout.write(
          `imported ${imported} block(s) (${known} already known); head ${head.header.number} 0x${Buffer.from(head.hash()).toString('hex')}, state root 0x${Buffer.from(head.header.stateRoot).toString('hex')}\n`,
        )
      } finally {
        await kv.close()
      }
    })
}

/** Imports every block of an RLP chain file, in order, each decoded with the Common of its fork. */
export async function importChainFile(chain: Chain, file: string): Promise<{ imported: number; known: number }> {
  let imported = 0
  let known = 0
  for (const block of readChainFile(file, chain.commons)) {
    const { status } = await chain.importer.importBlock(block)
    if (status === 'known') known++
    else imported++
  }
  return { imported, known }
}
