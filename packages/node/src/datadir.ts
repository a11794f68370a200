import { accessSync, constants, mkdirSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { CairnError } from '@cairn/utils'
import { NodeErrorCode } from './errors.ts'

/** The layout of a datadir. */
export interface DatadirLayout {
  root: string
  /** LevelDB files of the chain. */
  chaindata: string
  /** Web3 Secret Storage keystores. */
  keystore: string
}

export function datadirLayout(root: string): DatadirLayout {
  const abs = resolve(root)
  return { root: abs, chaindata: `${abs}/chaindata`, keystore: `${abs}/keystore` }
}

/** Creates the datadir if needed and checks it is a writable directory. */
export function prepareDatadir(root: string): DatadirLayout {
  const layout = datadirLayout(root)
  try {
    mkdirSync(layout.root, { recursive: true, mode: 0o700 })
    if (!statSync(layout.root).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    accessSync(layout.root, constants.W_OK | constants.R_OK)
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error'
    throw new CairnError(
      NodeErrorCode.DATADIR_UNUSABLE,
      `datadir ${layout.root} is not a writable directory (${code})`,
      {
        fault: 'caller',
        cause: err,
        hint: 'choose another --datadir or fix its permissions',
      },
    )
  }
  return layout
}
