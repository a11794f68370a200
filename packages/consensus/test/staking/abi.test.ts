// The engine calls the system contracts through its own ABI fragments (staking-abi.ts): each must
// be in the compiled contract's ABI with the same inputs and outputs, or a system call would hit
// another function (or none) and halt the chain.
import { governance, staking } from '@cairn/contracts'
import type { AbiFunction } from 'viem'
import { describe, expect, it } from 'vitest'
import { GOVERNANCE_SYSTEM_ABI, STAKING_SYSTEM_ABI } from '../../src/index.ts'

type Param = { type: string; components?: Param[] }
const sig = (ps: readonly Param[]): string =>
  ps.map((p) => (p.components ? `(${sig(p.components)})${p.type.slice(5)}` : p.type)).join(',')
const shape = (f: AbiFunction) => `${f.name}(${sig(f.inputs as Param[])})->(${sig(f.outputs as Param[])})`

describe('the engine ABI fragments', () => {
  it.each([
    ['Staking', STAKING_SYSTEM_ABI, staking.abi],
    ['Governance', GOVERNANCE_SYSTEM_ABI, governance.abi],
  ] as const)('%s: every function the engine calls is in the artifact, same inputs and outputs', (_name, engine, artifact) => {
    const compiled = new Set((artifact as unknown as AbiFunction[]).filter((e) => e.type === 'function').map(shape))
    for (const f of engine as readonly AbiFunction[]) expect(compiled, shape(f)).toContain(shape(f))
  })
})
