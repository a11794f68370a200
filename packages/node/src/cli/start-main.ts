import { registerStart } from './commands/start.ts'
import { newProgram, runProgram } from './run-program.ts'

/**
 * `cairn start` alone: the entry of the prebuilt JavaScript bundle (`npm run build`, see
 * packages/node/build.ts) that bin/cairn.js runs for `start` when it is current, so a node starts
 * without compiling TypeScript. Every other command runs from source (main.ts).
 */
const program = newProgram()
registerStart(program)
await runProgram(program)
