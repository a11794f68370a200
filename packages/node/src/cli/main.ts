import { buildProgram } from './program.ts'
import { runProgram } from './run-program.ts'

/** The `cairn` command line. */
await runProgram(await buildProgram())
