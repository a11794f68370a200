import { readFileSync, statSync } from 'node:fs'
import { GhostdagErrorCode, parseTestDag, runTestDag } from '@cairn/consensus/ghostdag'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'

/** A DAG file larger than this is refused before it is read (a 5,000-block Kaspa DAG is ~1 MB). */
const MAX_FILE_BYTES = 64 * 1024 * 1024

function bad(message: string, hint?: string): CairnError {
  return new CairnError(GhostdagErrorCode.INVALID_DAG, message, { fault: 'caller', hint })
}

/** `--k`: a decimal whole number (the range is checked with the DAG's own K). */
function parseK(text: string): number {
  const s = text.trim()
  if (!/^\d{1,6}$/.test(s))
    throw bad(`--k: ${JSON.stringify(s.slice(0, 20))} is not a whole number`, 'give K as 0 to 65535')
  return Number(s)
}

function readDag(file: string): unknown {
  let text: string
  try {
    const size = statSync(file).size
    if (size > MAX_FILE_BYTES)
      throw bad(`${file} is ${size} bytes, more than the ${MAX_FILE_BYTES} a DAG file may have`)
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (err instanceof CairnError) throw err
    throw bad(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw bad(`${file} is not JSON: ${(err as Error).message.slice(0, 120)}`)
  }
}

/** Registers `cairn dag`. */
export function registerDag(program: Command): void {
  const dag = program.command('dag').description("block DAG tools: GhostDAG over a DAG file in Kaspa's test format")
  dag
    .command('ghostdag')
    .description("each block's blue score, selected parent and mergeset blues and reds, by GhostDAG (Kaspa's rules)")
    .argument('<file>', "a DAG in Kaspa's test-DAG JSON format")
    .option('--k <k>', "GhostDAG's K, in place of the file's")
    .addHelpText(
      'after',
      `
FILE is {"K": 4, "GenesisID": "A", "Blocks": [{"ID": "B", "Parents": ["A"]}, …]} with blocks in a
topological order (parents first); other fields (Kaspa's "Expected…") are ignored. A block's hash is
its ID's ASCII bytes right-padded with zeros to 32 bytes, and every block carries the same work, as
in rusty-kaspa's test DAGs. Runs the engine's own GhostDAG and reachability code.

Prints {"blocks": [{"id", "blueScore", "selectedParent", "mergesetBlues", "mergesetReds"}, …]} on
one line (the mergeset in consensus order, the selected parent first among the blues). Bad input
(an unknown parent, a block before its parent or a cycle, a duplicate id, a bad K) exits 2 naming
the block.

Example:
  $ cairn dag ghostdag dag0.json | jq -c '.blocks[-1]'`,
    )
    .action((file: string, opts: { k?: string }) => {
      const parsed = parseTestDag(readDag(file), { k: opts.k === undefined ? undefined : parseK(opts.k) })
      const blocks = runTestDag(parsed)
      process.stdout.write(`${JSON.stringify({ blocks })}\n`)
    })
}
