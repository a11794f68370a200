// Compiles Cairn's Solidity sources with solc-js (the root devDependency, pinned to 0.8.30): no
// network, no native solc. Used by scripts/compile.ts (writes the artifacts) and by the test that
// checks the committed artifacts are current. Not part of the package's runtime exports.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { CairnError } from '@cairn/utils'

/** The compiled form of one contract, as committed in src/artifacts/NAME.json. */
export interface ContractArtifact {
  contractName: string
  sourceName: string
  compiler: { version: string; evmVersion: string; optimizer: { enabled: boolean; runs: number } }
  abi: readonly Record<string, unknown>[]
  /** Creation code, 0x-hex. */
  bytecode: `0x${string}`
  /** Runtime code, 0x-hex. */
  deployedBytecode: `0x${string}`
}

/** The compiler version every artifact is built with; another version fails the compile. */
export const SOLC_VERSION = '0.8.30'
/**
 * `paris` (no PUSH0, no MCOPY): the registry must deploy on any EVM chain, including ones that
 * have not taken Shanghai or Cancun; it uses nothing newer.
 */
export const EVM_VERSION = 'paris'
const OPTIMIZER = { enabled: true, runs: 200 }

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[]
  contracts?: Record<
    string,
    Record<
      string,
      { abi: Record<string, unknown>[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }
    >
  >
}

/** Compiles `src/NAME.sol` and returns the artifact of contract NAME. Throws on any compiler error. */
export function compileContract(name: string): ContractArtifact {
  const sourceName = `${name}.sol`
  const content = readFileSync(new URL(`./${sourceName}`, import.meta.url), 'utf8')
  const solc = createRequire(import.meta.url)('solc') as { version(): string; compile(input: string): string }
  const version = solc.version()
  if (!version.startsWith(`${SOLC_VERSION}+`))
    throw new CairnError(
      'CONTRACTS_COMPILER_MISMATCH',
      `solc ${version} is installed, the artifacts need ${SOLC_VERSION}`,
      {
        fault: 'internal',
        hint: 'npm ci (solc is pinned in the root package.json)',
      },
    )
  const input = {
    language: 'Solidity',
    sources: { [sourceName]: { content } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: OPTIMIZER,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0)
    throw new CairnError(
      'CONTRACTS_COMPILE_FAILED',
      `${sourceName} does not compile:\n${errors.map((e) => e.formattedMessage).join('\n')}`,
      {
        fault: 'internal',
      },
    )
  const c = out.contracts?.[sourceName]?.[name]
  if (!c)
    throw new CairnError('CONTRACTS_COMPILE_FAILED', `${sourceName} has no contract ${name}`, { fault: 'internal' })
  return {
    contractName: name,
    sourceName: `packages/contracts/src/${sourceName}`,
    compiler: { version: SOLC_VERSION, evmVersion: EVM_VERSION, optimizer: OPTIMIZER },
    abi: c.abi,
    bytecode: `0x${c.evm.bytecode.object}`,
    deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
  }
}

/** The text of a committed artifact file for `artifact` (stable key order, 2-space JSON). */
export function artifactText(artifact: ContractArtifact): string {
  return `${JSON.stringify(artifact, null, 2)}\n`
}
