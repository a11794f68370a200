import { readFileSync } from 'node:fs'
import { parseGenesis } from '@cairn/chain'
import { CairnError, errorMessage } from '@cairn/utils'
import { NodeErrorCode } from './errors.ts'

/**
 * Reads and fully checks a genesis file before anything touches a datadir: unreadable, not JSON
 * or not a valid geth-style genesis each give one clear line.
 */
export function readGenesisFile(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new CairnError(NodeErrorCode.GENESIS_UNREADABLE, `cannot read genesis file ${path}: ${errorMessage(err)}`, {
      fault: 'caller',
      hint: 'check the --genesis path',
    })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    // JSON.parse quotes the start of the input, newlines included: keep its first line.
    throw new CairnError(
      'CHAIN_GENESIS_INVALID',
      `genesis file ${path} is not valid JSON: ${errorMessage(err).split('\n')[0]}`,
      {
        fault: 'caller',
        hint: 'fix the file; it must be a geth-style genesis.json',
      },
    )
  }
  parseGenesis(json, path)
  return json
}
