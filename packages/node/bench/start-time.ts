// Start time: from spawning a node to its first answered eth_chainId (issue #55: < 1 s for
// `cairn start --dev --ephemeral`, Anvil beside it), the median of a few starts, and the CPU the
// process used until then (less sensitive than wall time to a loaded machine).
//
// Run on its own (BENCH_START in run.ts runs the same measure):
//   node --import tsx packages/node/bench/start-time.ts
//   START_RUNS=5 ANVIL_BIN=/path/to/anvil .ci/with-node 24 node --import tsx packages/node/bench/start-time.ts
// It starts `packages/node/bin/cairn.js start --dev --ephemeral` as `npm start` and `npx cairn` do
// (the prebuilt bundle while it is current: `npm run build`), then with a datadir as `npm start`
// runs it (run here only, not in `npm run bench`), then Anvil when found.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cpuMsOf, envNumber, findAnvil, freePort } from './targets.ts'

export interface StartFigure {
  /** Median wall time to the first answered eth_chainId, ms. */
  medianMs: number
  /** Median CPU (user + system) the process used by then, ms; undefined off Linux. */
  cpuMs: number | undefined
  /** Every start's wall time, ms, in the order run. */
  runsMs: number[]
  /** What the process wrote on stderr (the launcher says there when it runs the sources). */
  stderr: string
}

async function once(
  cmd: string,
  args: (port: number) => string[],
): Promise<{ ms: number; cpu: number | undefined; stderr: string }> {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(cmd, args(port), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise((r) => child.once('exit', r))
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${cmd} exited (${child.exitCode}) before answering: ${stderr}`)
      try {
        const res = await fetch(`http://127.0.0.1:${port}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
        })
        if (res.ok) break
      } catch {}
      if (performance.now() - started > 60_000) throw new Error(`${cmd} did not answer within 60 s`)
      await new Promise((r) => setTimeout(r, 5))
    }
    return { ms: performance.now() - started, cpu: child.pid ? cpuMsOf(child.pid) : undefined, stderr }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** Starts the node `runs` times, one after the other. */
export async function measureStart(cmd: string, args: (port: number) => string[], runs = 5): Promise<StartFigure> {
  const all: { ms: number; cpu: number | undefined; stderr: string }[] = []
  for (let i = 0; i < runs; i++) all.push(await once(cmd, args))
  const cpus = all.map((a) => a.cpu).filter((c): c is number => c !== undefined)
  return {
    medianMs: Math.round(median(all.map((a) => a.ms))),
    cpuMs: cpus.length ? Math.round(median(cpus)) : undefined,
    runsMs: all.map((a) => Math.round(a.ms)),
    stderr: all.map((a) => a.stderr).join(''),
  }
}

/** `cairn start --dev --ephemeral` on `port`, as the launcher runs it (node + packages/node/bin/cairn.js). */
export function cairnStartArgs(port: number): string[] {
  return [
    fileURLToPath(new URL('../bin/cairn.js', import.meta.url)),
    'start',
    '--dev',
    '--ephemeral',
    '--log.level',
    'warn',
    '--http.port',
    String(port),
  ]
}

/**
 * `cairn start --dev --datadir DIR` on `port`: what `npm start` runs (LevelDB and its files). The
 * same directory every time, as a user's `./.cairn/dev`: the first start writes the genesis, the
 * others open the chain it left.
 */
export function cairnDatadirStartArgs(datadir: string): (port: number) => string[] {
  return (port) => {
    const args = cairnStartArgs(port)
    args.splice(args.indexOf('--ephemeral'), 1, '--datadir', datadir)
    return args
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = envNumber('START_RUNS', 5)
  console.log(`node ${process.version}, ${runs} starts each, one after the other`)
  const cairn = await measureStart(process.execPath, cairnStartArgs, runs)
  // The launcher runs the TypeScript sources through tsx when a source is newer than the bundle.
  const stale = /newer than the prebuilt bundle/.test(cairn.stderr)
  console.log(
    `cairn start --dev --ephemeral: median ${cairn.medianMs} ms (CPU ${cairn.cpuMs ?? '-'} ms; runs ${cairn.runsMs.join(' ')})${stale ? ' — from the SOURCES: the bundle is stale, `npm run build`' : ''}`,
  )
  const root = mkdtempSync(join(tmpdir(), 'cairn-start-time-'))
  try {
    const withDatadir = await measureStart(process.execPath, cairnDatadirStartArgs(join(root, 'dev')), runs)
    console.log(
      `cairn start --dev --datadir:     median ${withDatadir.medianMs} ms (CPU ${withDatadir.cpuMs ?? '-'} ms; runs ${withDatadir.runsMs.join(' ')})`,
    )
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
  const anvilBin = findAnvil(process.env.ANVIL_BIN)
  if (anvilBin) {
    const anvil = await measureStart(anvilBin, (port) => ['--port', String(port), '--silent'], runs)
    console.log(
      `anvil:                         median ${anvil.medianMs} ms (CPU ${anvil.cpuMs ?? '-'} ms; runs ${anvil.runsMs.join(' ')})`,
    )
  } else {
    console.log('anvil: not found (ANVIL_BIN=/path/to/anvil)')
  }
}
