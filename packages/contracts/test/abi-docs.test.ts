// The system contracts' ABI as published for other tools (docs/consensus/abi/*.json and the
// signature blocks of staking.md and governance.md) is what the compiled artifacts say: a contract
// change that is recompiled without rewriting them fails here, naming the command that does.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { abiFileText, SYSTEM_CONTRACT_DOCS, signature, signatureBlock, signatureLines } from '../src/abi-docs.ts'
import { governance, staking } from '../src/index.ts'

const ROOT = new URL('../../../', import.meta.url)
const ARTIFACTS = { Staking: staking, Governance: governance }
const FIX = 'run `node --import tsx packages/contracts/scripts/abi-docs.ts` and commit the result'

describe('the system contracts’ published ABI', () => {
  for (const c of SYSTEM_CONTRACT_DOCS) {
    const artifact = ARTIFACTS[c.name]
    it(`docs/consensus/abi/${c.name}.json is ${c.name}'s compiled ABI`, () => {
      const file = readFileSync(new URL(`docs/consensus/abi/${c.name}.json`, ROOT), 'utf8')
      expect(file === abiFileText(artifact), FIX).toBe(true)
      expect(JSON.parse(file)).toEqual(artifact.abi)
    })
    it(`${c.page} lists ${c.name}'s signatures`, () => {
      const page = readFileSync(new URL(c.page, ROOT), 'utf8')
      expect(page.includes(signatureBlock(c.name, c.address, artifact)), FIX).toBe(true)
    })
  }

  it('writes signatures as cast and Solidity read them', () => {
    const lines = signatureLines(staking)
    expect(lines).toContain('function delegate(address operator) payable')
    expect(lines).toContain(
      'event Delegated(address indexed delegator, address indexed operator, uint256 amount, uint256 shares)',
    )
    expect(signatureLines(governance)).toContain(
      'function submitProposal((address target, uint256 value, bytes data)[] actions, string title, string description) payable returns (uint256 id)',
    )
    expect(
      signature({
        type: 'function',
        name: 'f',
        inputs: [{ name: '', type: 'uint8[2]' }],
        outputs: [],
        stateMutability: 'pure',
      }),
    ).toBe('function f(uint8[2]) pure')
    expect(signature({ type: 'error', name: 'E', inputs: [] })).toBe('error E()')
  })
})
