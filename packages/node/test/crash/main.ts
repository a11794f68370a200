// `npm run test:crash [-- KILLS [BLOCK_TIME]]`: the full crash run (default 20 kills; with a block
// time, transactions wait in the pool when the kill lands). Exits 1 on any violation.
import { runCrashTest } from './crash-run.ts'

const kills = Number(process.argv[2] ?? 20)
/** `-- KILLS BLOCK_TIME`: with a block time, kills land between admission and sealing. */
const blockTime = process.argv[3] === undefined ? undefined : Number(process.argv[3])
const started = Date.now()
const result = await runCrashTest({
  kills,
  ...(blockTime ? { blockTime } : {}),
  log: (l) => process.stdout.write(`${l}\n`),
})
for (const v of result.violations) process.stdout.write(`VIOLATION ${v}\n`)
process.stdout.write(
  `kills survived: ${result.killsSurvived}/${kills}, violations: ${result.violations.length}, txs sent: ${result.txsSent}, receipts seen: ${result.receiptsSeen}, head: ${result.headNumber}, ${Math.round((Date.now() - started) / 1000)} s\n`,
)
process.exit(result.violations.length === 0 && result.killsSurvived === kills ? 0 : 1)
