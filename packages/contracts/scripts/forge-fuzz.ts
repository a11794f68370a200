// `npm run test:forge-fuzz`: Foundry's fuzz and invariant runs over the system contracts
// (packages/contracts/foundry.toml, forge/test/*.t.sol), compiled offline by `cairn solc` (the
// solc 0.8.30 the artifacts are built with). forge comes from FORGE_BIN, else the CI cache
// (~/.cache/cairn-forge, .ci/run installs @foundry-rs/forge there), else node_modules; extra
// arguments go to `forge test` (e.g. --fuzz-runs 5000, --match-contract Staking).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const bin = ['forge-linux-amd64', 'forge-linux-arm64', 'forge-darwin-arm64', 'forge-darwin-amd64'].flatMap((d) =>
  [join(homedir(), '.cache/cairn-forge'), repo, tmpdir()].map((root) =>
    join(root, 'node_modules/@foundry-rs', d, 'bin/forge'),
  ),
)
const forge = process.env.FORGE_BIN ?? bin.find((b) => existsSync(b))
if (!forge || !existsSync(forge)) {
  process.stderr.write(
    'no forge binary: set FORGE_BIN, or npm install --no-save --prefix ~/.cache/cairn-forge @foundry-rs/forge@1.7.1\n',
  )
  process.exit(2)
}
const out = mkdtempSync(join(tmpdir(), 'cairn-forge-fuzz-'))
const started = Date.now()
const r = spawnSync(forge, ['test', '--root', join(repo, 'packages/contracts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: {
    ...process.env,
    FOUNDRY_SOLC: join(repo, 'packages/node/bin/cairn-solc.js'),
    FOUNDRY_OUT: join(out, 'out'),
    FOUNDRY_CACHE_PATH: join(out, 'cache'),
  },
})
rmSync(out, { recursive: true, force: true })
process.stderr.write(`forge fuzz/invariant runs: ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
process.exit(r.status ?? 1)
