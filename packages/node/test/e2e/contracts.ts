// Compiles the Solidity fixtures with solc (offline, standard JSON) and exposes typed ABIs for viem.
//
// The ABIs are written out by hand (so viem can infer argument and return types) and checked
// against what solc produces at compile time, so they cannot drift from the sources.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import solc from 'solc'
import { type Abi, type Hex, parseAbi } from 'viem'

export const tokenAbi = parseAbi([
  'constructor(string name_, string symbol_, uint256 initialSupply)',
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address, address) view returns (uint256)',
  'function transfer(address to, uint256 amount) returns (bool)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function transferFrom(address from, address to, uint256 amount) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
])

export const emitterAbi = parseAbi([
  'function MAX_VALUE() view returns (uint256)',
  'function value() view returns (uint256)',
  'function set(uint256 newValue)',
  'function setStrict(uint256 newValue)',
  'function note(bytes32 tag, string message)',
  'function parentHash() view returns (uint256 number, bytes32 hash)',
  'function recordParentHash()',
  'event ValueChanged(address indexed setter, uint256 indexed oldValue, uint256 indexed newValue)',
  'event Note(bytes32 indexed tag, string message)',
  'event ParentHash(uint256 indexed blockNumber, bytes32 parentHash)',
  'error ValueTooLarge(uint256 value, uint256 max)',
])

export interface Artifact<A extends Abi> {
  abi: A
  /** Creation code (constructor arguments not included). */
  bytecode: Hex
  /** Runtime code, what eth_getCode must return once deployed (no immutables in these contracts). */
  deployedBytecode: Hex
}

export interface Artifacts {
  Token: Artifact<typeof tokenAbi>
  Emitter: Artifact<typeof emitterAbi>
}

const SOURCES_DIR = fileURLToPath(new URL('../fixtures/contracts/', import.meta.url))
const SOURCE_FILES = ['Token.sol', 'Emitter.sol'] as const

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[]
  contracts?: Record<
    string,
    Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >
}

let cached: Artifacts | undefined

/** Compiles the fixtures once per process. */
export function compileContracts(): Artifacts {
  cached ??= compile()
  return cached
}

function compile(): Artifacts {
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(
      SOURCE_FILES.map((file) => [file, { content: readFileSync(SOURCES_DIR + file, 'utf8') }]),
    ),
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`)

  return {
    Token: artifact(output, 'Token.sol', 'Token', tokenAbi),
    Emitter: artifact(output, 'Emitter.sol', 'Emitter', emitterAbi),
  }
}

function artifact<A extends Abi>(output: SolcOutput, file: string, name: string, abi: A): Artifact<A> {
  const compiled = output.contracts?.[file]?.[name]
  if (!compiled) throw new Error(`solc produced no ${file}:${name}`)
  const expected = normalizeAbi(abi)
  const actual = normalizeAbi(compiled.abi)
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    throw new Error(
      `The hand-written ABI of ${name} does not match solc's:\n  expected ${expected.join('\n           ')}\n  solc     ${actual.join('\n           ')}`,
    )
  }
  return {
    abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  }
}

/** One sorted line per ABI item, parameter names ignored. */
function normalizeAbi(abi: Abi): string[] {
  type Param = { type: string; indexed?: boolean }
  const params = (ps: readonly Param[] | undefined) =>
    (ps ?? []).map((p) => `${p.type}${p.indexed ? ' indexed' : ''}`).join(',')
  return abi
    .map((item) => {
      const name = 'name' in item ? item.name : ''
      const inputs = 'inputs' in item ? params(item.inputs) : ''
      const outputs = 'outputs' in item ? ` returns (${params(item.outputs)})` : ''
      const mutability = 'stateMutability' in item ? ` ${item.stateMutability}` : ''
      return `${item.type} ${name}(${inputs})${outputs}${mutability}`
    })
    .sort()
}
