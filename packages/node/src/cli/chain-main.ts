import { registerGov } from './commands/gov.ts'
import { registerStaking } from './commands/staking.ts'
import { newProgram, runProgram } from './run-program.ts'

/**
 * `cairn staking` and `cairn gov` alone: the entry of the prebuilt bundle dist/chain-cli.js (`npm
 * run build`, see packages/node/bundle.ts) that bin/cairn.js runs for them while it is current. A
 * validator runs these again and again; from the sources each paid ~1.5 s of CPU before its first
 * request (tsx compiling, and viem's ~350 module files), from the bundle ~0.4 s.
 */
const program = newProgram()
registerStaking(program)
registerGov(program)
await runProgram(program)
