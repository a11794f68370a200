// Reserves build benchmark (one scenario): node --import tsx packages/reserves/bench/build.ts [users] [currencies] [workers]
// The full table (both hashes, 10M streamed): node --import tsx packages/reserves/bench/run.ts
import { execFileSync } from 'node:child_process'

const [users = '1000000', k = '3', workers = '2'] = process.argv.slice(2)
for (const hash of ['sha256', 'keccak256'])
  process.stdout.write(
    execFileSync(
      process.execPath,
      [...process.execArgv, new URL('./scenario.ts', import.meta.url).pathname, 'memory', users, k, hash, workers],
      {
        encoding: 'utf8',
      },
    ),
  )
