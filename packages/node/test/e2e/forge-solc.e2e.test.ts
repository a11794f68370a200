// `forge build` offline with `cairn solc` as its compiler (foundry.toml: solc = ".../cairn-solc.js").
// Needs a forge binary: FORGE_BIN, or `@foundry-rs/forge` installed in the repository
// (`npm install --no-save @foundry-rs/forge@1.7.1`) or in /tmp (`cd /tmp && npm i @foundry-rs/forge@1.7.1`);
// skipped without one. forge-fork-script.e2e.test.ts runs forge test --fork-url and forge script against a node.
//
//   FORGE_BIN=/path/to/forge npx vitest run packages/node/test/e2e/forge-solc.e2e.test.ts
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { forgeBinary } from './harness.ts'

const SHIM = fileURLToPath(new URL('../../bin/cairn-solc.js', import.meta.url))
const forge = forgeBinary()
const haveForge = forge !== undefined
if (!haveForge) console.warn('skipping forge build with cairn solc: no forge binary found (set FORGE_BIN)')

describe.skipIf(!haveForge)('forge build with cairn solc', () => {
  it('compiles a project with an import, offline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-forge-'))
    try {
      mkdirSync(join(dir, 'src'))
      writeFileSync(
        join(dir, 'foundry.toml'),
        `[profile.default]\nsrc = "src"\nout = "out"\nsolc = "${SHIM}"\noffline = true\n`,
      )
      writeFileSync(
        join(dir, 'src/Base.sol'),
        '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\ncontract Base { uint256 public base = 7; }\n',
      )
      writeFileSync(
        join(dir, 'src/Counter.sol'),
        '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\nimport {Base} from "./Base.sol";\ncontract Counter is Base { uint256 public number; function increment() public { number++; } }\n',
      )
      const out = execFileSync(forge as string, ['build'], { cwd: dir, encoding: 'utf8', timeout: 240_000 })
      expect(out).toMatch(/Compiler run successful/)
      const artifact = JSON.parse(readFileSync(join(dir, 'out/Counter.sol/Counter.json'), 'utf8')) as {
        bytecode: { object: string }
      }
      expect(artifact.bytecode.object).toMatch(/^0x6080/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)
})
