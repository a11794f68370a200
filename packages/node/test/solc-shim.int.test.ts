// `cairn solc`: solc-js behind the native CLI's --version / --standard-json (what Foundry runs as
// `solc = "…"`), with imports resolved from --base-path and --include-path. In-process (solc-js is
// WebAssembly: compiling takes seconds, hence the integration tier).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseSolcArgs, runSolcShim } from '../src/cli/solc-shim.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-solc-'))
const lib = mkdtempSync(join(tmpdir(), 'cairn-solc-lib-'))
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(lib, { recursive: true, force: true })
})

function run(argv: string[], stdin = ''): { code: number; out: string; err: string } {
  let out = ''
  let err = ''
  const code = runSolcShim(argv, { stdin: () => stdin, stdout: (t) => (out += t), stderr: (t) => (err += t) })
  return { code, out, err }
}

describe('cairn solc', () => {
  it("--version prints the native CLI's banner with solc-js's version", () => {
    const { code, out } = run(['--version'])
    expect(code).toBe(0)
    expect(out).toMatch(/^solc, the solidity compiler commandline interface\nVersion: 0\.8\.\d+\+commit\.[0-9a-f]{8}/)
  })

  it('--standard-json compiles stdin, reading the imports the input lacks from the base and include paths', () => {
    writeFileSync(join(dir, 'Base.sol'), 'pragma solidity ^0.8.0; import "Lib.sol"; contract Base is Lib {}')
    writeFileSync(join(lib, 'Lib.sol'), 'pragma solidity ^0.8.0; contract Lib { uint public x = 1; }')
    const input = {
      language: 'Solidity',
      sources: { 'A.sol': { content: 'pragma solidity ^0.8.0; import "Base.sol"; contract A is Base {}' } },
      settings: { outputSelection: { '*': { '*': ['evm.bytecode.object'] } } },
    }
    const argv = ['--standard-json', '--base-path', dir, '--include-path', lib, '--allow-paths', dir]
    const { code, out } = run(argv, JSON.stringify(input))
    expect(code).toBe(0)
    const output = JSON.parse(out) as {
      errors?: { severity: string; message: string }[]
      contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>>
    }
    expect((output.errors ?? []).filter((e) => e.severity === 'error')).toEqual([])
    expect(Object.keys(output.contracts).sort()).toEqual(['A.sol', 'Base.sol', 'Lib.sol'])
    expect(output.contracts['A.sol']?.A?.evm.bytecode.object).toMatch(/^6080/)
  })

  it('a missing import is a compile error in the output, as the native CLI', () => {
    const input = {
      language: 'Solidity',
      sources: { 'A.sol': { content: 'pragma solidity ^0.8.0; import "Nowhere.sol"; contract A {}' } },
    }
    const { code, out } = run(['--standard-json', '--base-path', dir], JSON.stringify(input))
    expect(code).toBe(0)
    expect(out).toMatch(/File not found: Nowhere\.sol/)
  })

  it('refuses what it does not serve, with exit code 2', () => {
    expect(parseSolcArgs(['--bin', 'A.sol'])).toMatch(/unsupported option --bin/)
    expect(parseSolcArgs([])).toMatch(/expected --version or --standard-json/)
    expect(parseSolcArgs(['--base-path'])).toMatch(/needs a value/)
    expect(parseSolcArgs(['--standard-json', '--base-path=/x', '--include-path', '/y'])).toMatchObject({
      standardJson: true,
      basePath: '/x',
      includePaths: ['/y'],
    })
    expect(run(['--optimize']).code).toBe(2)
  })
})
