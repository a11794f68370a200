import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SuiteOptions, SuiteResult } from './suite.ts'

const HERE = dirname(fileURLToPath(import.meta.url))

/** A conformance suite: its folder holds a `run.ts` exporting `run(opts)`. */
export interface Suite {
  name: string
  /** Whether the suite's runner is in this checkout. */
  present: boolean
  run(opts: SuiteOptions): Promise<SuiteResult>
}

/** Every suite `npm run test:conformance` runs, in order. */
export const SUITE_NAMES = ['rpc-compat', 'blockchain'] as const

export function suites(): Suite[] {
  return SUITE_NAMES.map((name) => {
    const path = join(HERE, name, 'run.ts')
    return {
      name,
      present: existsSync(path),
      async run(opts: SuiteOptions) {
        const mod = (await import(path)) as { run(o: SuiteOptions): Promise<SuiteResult> }
        return mod.run(opts)
      },
    }
  })
}

/**
 * The pass count each suite must reach (`floors.json`): raised as fixes land, never lowered
 * silently (a lower figure is a regression to explain in the commit that lowers it).
 */
export function floors(): Record<string, number> {
  return JSON.parse(readFileSync(join(HERE, 'floors.json'), 'utf8')) as Record<string, number>
}
