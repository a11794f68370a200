/**
 * The system contracts' ABI as TypeScript (`src/abi/<name>.ts`), generated from the compiled
 * artifacts: each file exports the artifact's ABI `as const`, so viem types every call against the
 * contract as compiled (a function name, an argument or a decoded result the contract does not have
 * fails the typecheck), and no ABI fragment is written by hand anywhere. `scripts/compile.ts` (after
 * compiling) and `scripts/abi-docs.ts` (from the committed artifacts) rewrite them; abi-module.test.ts
 * fails when a committed file is not what its artifact says.
 */
import { writeFileSync } from 'node:fs'
import type { ContractArtifact } from './compile.ts'

/** The contracts with a generated ABI module: the system contracts the engine and the CLI call. */
export const ABI_MODULES = [
  { contract: 'Staking', file: 'staking.ts', name: 'stakingAbi' },
  { contract: 'Governance', file: 'governance.ts', name: 'governanceAbi' },
] as const

/**
 * The text of `src/abi/<file>`: a header naming its source and the command that rewrites it, then
 * the ABI with one entry a line (kept as written by the formatter: a generated file is read by the
 * typechecker, not by people; docs/consensus/abi/*.json and the docs' signature blocks are for them).
 */
export function abiModuleText(artifact: ContractArtifact, name: string): string {
  const lines = artifact.abi.map((entry) => `  ${JSON.stringify(entry)},`)
  return [
    `// Generated from ${artifact.sourceName} (solc ${artifact.compiler.version}) by`,
    '// packages/contracts/src/abi-module.ts: do not edit. Rewrite with',
    '//   node --import tsx packages/contracts/scripts/abi-docs.ts',
    '// biome-ignore format: generated, one ABI entry a line',
    `export const ${name} = [`,
    ...lines,
    '] as const',
    '',
  ].join('\n')
}

/** Rewrites `src/abi/*.ts` of the contracts in {@link ABI_MODULES} from `artifacts` (by contract name). */
export function writeAbiModules(artifacts: Record<string, ContractArtifact>): void {
  for (const m of ABI_MODULES) {
    const artifact = artifacts[m.contract]
    if (artifact === undefined) continue
    writeFileSync(new URL(`./abi/${m.file}`, import.meta.url), abiModuleText(artifact, m.name))
  }
}
