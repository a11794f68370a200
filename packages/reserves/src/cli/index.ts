/**
 * @cairn/reserves/cli: the `cairn reserves …` commands that need only the library — `build`, `proof`,
 * `verify` (a tree and its proofs) and `anchor` / `registry` (roots on a chain). The service's commands
 * (`token`, `serve`, `builds`, `audit`, `report`, `backup`, `restore`) and the `reserves` command that
 * gathers all of them are `@cairn/reserves-service/cli`.
 */
export { registerAnchor, verifyAgainstRegistry } from './anchor.ts'
export { readArgFile } from './read-arg-file.ts'
export { registerTreeCommands } from './tree.ts'
