import { Chain, type ChainEngine, ChainErrorCode, readChainFile, validateExtraData } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { LevelKV } from '@cairn/db'
import { bytesToHex, CairnError, silentLogger } from '@cairn/utils'
import type { Command } from 'commander'
import { prepareDatadir } from '../../datadir.ts'
import { NodeErrorCode } from '../../errors.ts'
import { readGenesisFile } from '../../genesis-file.ts'
import { devNodeGenesis } from '../../node-genesis.ts'

/**
 * The rules `cairn import` runs under after the merge: blocks from a file carry no seal Cairn
 * checks yet; the longest chain wins. Proof-of-work blocks follow the chain's own PoW-era rules
 * (difficulty, uncles, rewards: @cairn/chain's pow.ts), whatever the engine. No rule finality:
 * the blocks of a file may reorganise each other; {@link importChainFile} finalizes the head once
 * the whole file is in (as hive's forkchoiceUpdated after a chain import).
 */
export const importEngine: ChainEngine = {
  name: 'import',
  validateHeader: async (header) => validateExtraData(header),
  preferHead: async (candidate, current) => candidate.number > current.number,
}

/** Registers `cairn import`. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description(
      "import blocks from an RLP chain file (geth's format), validating and executing each (the node must be stopped)",
    )
    .argument('<file>', 'the chain file to read')
    .option('--datadir <dir>', 'the datadir to import into (default with --dev: ./.cairn/dev)')
    .option('--genesis <file>', 'the genesis, for a datadir that holds no chain yet')
    .option('--reference', 'execute with every speed shim off (same results, slower), as `cairn start --reference`')
    .option(
      '--dev',
      'the file was exported from a dev chain: use the dev genesis (`cairn start --dev`: chain id 1337, the dev accounts), as `geth --dev import` does',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ cairn import chain.rlp --datadir ./copy --genesis genesis.json\n  $ cairn import dev-chain.rlp --dev --datadir ./dev-copy\n',
    )
    .action(async (file: string, opts: { datadir?: string; genesis?: string; dev?: boolean; reference?: boolean }) => {
      if (opts.dev && opts.genesis) {
        throw new CairnError(NodeErrorCode.IMPORT_INVALID, '--dev and --genesis name two genesis blocks', {
          fault: 'caller',
          hint: 'give one: --dev for a chain exported from `cairn start --dev`, --genesis for any other',
        })
      }
      const datadir = opts.datadir ?? (opts.dev ? '.cairn/dev' : undefined)
      if (datadir === undefined) {
        throw new CairnError(NodeErrorCode.IMPORT_INVALID, 'no datadir to import into', {
          fault: 'caller',
          hint: 'give --datadir DIR (or --dev for ./.cairn/dev)',
        })
      }
      // the dev genesis as `cairn start --dev` builds it (CAIRN_CHAIN_ID and the dev_accounts settings apply)
      const genesis = opts.dev ? devNodeGenesis(process.env) : opts.genesis ? readGenesisFile(opts.genesis) : undefined
      const genesisSource = opts.dev ? 'dev genesis' : opts.genesis
      const layout = prepareDatadir(datadir)
      // The node's own crypto (native keccak and ecrecover where available), as `cairn start` runs
      // blocks with: without it sender recovery falls back to @ethereumjs' pure-JS secp256k1.
      await initCrypto()
      const kv = new LevelKV({ path: layout.chaindata })
      await kv.open()
      try {
        const chain = await Chain.open(
          {
            ...(genesis !== undefined ? { genesis, genesisSource } : {}),
            ...(opts.reference ? { reference: true } : {}),
          },
          { kv, engine: importEngine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
        )
        const started = performance.now()
        const { imported, known, transactions } = await importChainFile(chain, file)
        const seconds = (performance.now() - started) / 1000
        const head = chain.head
        // As geth's "Import done in …": the import's own time and rate, without the process start.
        const rate =
          seconds > 0 ? `, ${Math.round(imported / seconds)} blocks/s, ${Math.round(transactions / seconds)} tx/s` : ''
        process.stdout.write(
          `imported ${imported} block(s) (${known} already known), ${transactions} transaction(s) in ${seconds.toFixed(3)} s${rate}; head ${head.header.number} 0x${Buffer.from(head.hash()).toString('hex')}, state root 0x${Buffer.from(head.header.stateRoot).toString('hex')}\n`,
        )
      } finally {
        await kv.close()
      }
    })
}

/**
 * Imports every block of an RLP chain file, in order, each decoded with the Common of its fork,
 * through the chain's front door (`processBlock`, source `file`). The first block that does not
 * import stops it with the chain's error (a file must hold a chain: an unknown parent is an error).
 */
export async function importChainFile(
  chain: Chain,
  file: string,
): Promise<{ imported: number; known: number; transactions: number }> {
  let imported = 0
  let known = 0
  let transactions = 0
  // Each block is handed over with the one after it, executed ahead while it commits. A file that
  // fails to read past a block still has that block imported first (the error is thrown after).
  const blocks = readChainFile(file, chain.commons)
  for (let at = blocks.next(); !at.done; ) {
    const block = at.value
    let unreadable: { error: unknown } | undefined
    try {
      at = blocks.next()
    } catch (error) {
      unreadable = { error }
      at = { done: true, value: undefined }
    }
    const r = await chain.processBlock(block, { source: 'file', ...(at.done ? {} : { next: at.value }) })
    if (r.status === 'known') known++
    else if (r.status === 'imported') {
      imported++
      transactions += block.transactions.length
    } else if (r.status === 'error') throw r.error.cause ?? r.error
    else {
      throw new CairnError(
        ChainErrorCode.PARENT_UNKNOWN,
        `block ${block.header.number} ${bytesToHex(block.hash())}: parent ${bytesToHex(block.header.parentHash)} is unknown`,
        { fault: 'caller' },
      )
    }
    if (unreadable) throw unreadable.error
  }
  // The file's head is the chain's: safe and final (hive makes it so with engine_forkchoiceUpdated).
  await chain.setFinalized(chain.head.hash())
  return { imported, known, transactions }
}
