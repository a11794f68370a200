// Recompiles the contracts and rewrites src/artifacts/*.json, and from them the system contracts'
// ABI files and signatures in the docs (abi-docs.ts) and their typed ABI modules, src/abi/*.ts
// (abi-module.ts) (commit the result):
//   node --import tsx packages/contracts/scripts/compile.ts
import { writeFileSync } from 'node:fs'
import { writeAbiDocs } from '../src/abi-docs.ts'
import { writeAbiModules } from '../src/abi-module.ts'
import { artifactText, type ContractArtifact, compileContract } from '../src/compile.ts'

const compiled: Record<string, ContractArtifact> = {}

for (const name of ['ReservesRegistry', 'ArbExecutor', 'Staking', 'Governance']) {
  const artifact = compileContract(name)
  compiled[name] = artifact
  const file = new URL(`../src/artifacts/${name}.json`, import.meta.url)
  writeFileSync(file, artifactText(artifact))
  process.stdout.write(
    `${name}: ${(artifact.deployedBytecode.length - 2) / 2} bytes of runtime code → ${file.pathname}\n`,
  )
}
writeAbiDocs(new URL('../../../', import.meta.url), compiled)
writeAbiModules(compiled)
process.stdout.write(
  'docs/consensus/abi/*.json, the signatures in staking.md, governance.md and src/abi/*.ts rewritten\n',
)
