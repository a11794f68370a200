// The typed ABI modules (src/abi/*.ts, what the engine and the CLI call the system contracts
// through) are the committed artifacts' ABI: a contract recompiled without rewriting them fails
// here, naming the command that does (the artifacts themselves are checked against the sources by
// staking-artifacts.int.test.ts, so the chain source → artifact → module cannot drift).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ABI_MODULES, abiModuleText } from '../src/abi-module.ts'
import { governance, governanceAbi, staking, stakingAbi } from '../src/index.ts'

const FIX = 'run `node --import tsx packages/contracts/scripts/abi-docs.ts` and commit the result'
const ARTIFACTS = { Staking: staking, Governance: governance }

describe('the typed ABI modules', () => {
  for (const m of ABI_MODULES) {
    it(`src/abi/${m.file} is ${m.contract}'s compiled ABI`, () => {
      const committed = readFileSync(new URL(`../src/abi/${m.file}`, import.meta.url), 'utf8')
      expect(committed === abiModuleText(ARTIFACTS[m.contract], m.name), FIX).toBe(true)
    })
  }

  it('exports the same entries as the artifacts, in order', () => {
    expect(stakingAbi).toEqual(staking.abi)
    expect(governanceAbi).toEqual(governance.abi)
  })

  it('tells a changed ABI from the committed one', () => {
    const changed = { ...staking, abi: staking.abi.filter((e) => e.name !== 'activeSet') }
    const committed = readFileSync(new URL('../src/abi/staking.ts', import.meta.url), 'utf8')
    expect(abiModuleText(changed, 'stakingAbi')).not.toBe(committed)
  })
})
