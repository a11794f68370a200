// Rewrites what is made from the committed artifacts: the system contracts' JSON ABI files
// (docs/consensus/abi/*.json), the signature blocks of docs/consensus/staking.md and governance.md,
// and the typed ABI modules src/abi/*.ts (compile.ts does all of it too, after compiling):
//   node --import tsx packages/contracts/scripts/abi-docs.ts
import { writeAbiDocs } from '../src/abi-docs.ts'
import { writeAbiModules } from '../src/abi-module.ts'
import { governance, staking } from '../src/index.ts'

writeAbiDocs(new URL('../../../', import.meta.url), { Staking: staking, Governance: governance })
writeAbiModules({ Staking: staking, Governance: governance })
process.stdout.write(
  'wrote docs/consensus/abi/{Staking,Governance}.json, the signatures in staking.md, governance.md and src/abi/*.ts\n',
)
