// Recompiles the contracts and rewrites src/artifacts/*.json (commit the result):
//   node --import tsx packages/contracts/scripts/compile.ts
import { writeFileSync } from 'node:fs'
import { artifactText, compileContract } from '../src/compile.ts'

for (const name of ['ReservesRegistry', 'ArbExecutor', 'Staking', 'Governance']) {
  const artifact = compileContract(name)
  const file = new URL(`../src/artifacts/${name}.json`, import.meta.url)
  writeFileSync(file, artifactText(artifact))
  process.stdout.write(
    `${name}: ${(artifact.deployedBytecode.length - 2) / 2} bytes of runtime code → ${file.pathname}\n`,
  )
}
