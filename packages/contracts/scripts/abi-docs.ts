// Rewrites the system contracts' JSON ABI files (docs/consensus/abi/*.json) and the signature blocks
// of docs/consensus/staking.md and governance.md from the committed artifacts (compile.ts does it
// too, after compiling):
//   node --import tsx packages/contracts/scripts/abi-docs.ts
import { writeAbiDocs } from '../src/abi-docs.ts'
import { governance, staking } from '../src/index.ts'

writeAbiDocs(new URL('../../../', import.meta.url), { Staking: staking, Governance: governance })
process.stdout.write(
  'wrote docs/consensus/abi/{Staking,Governance}.json and the signatures in staking.md, governance.md\n',
)
