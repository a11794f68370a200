// Start time: from spawning a node to its first answered eth_chainId (the issue #22 figure: < 1 s for
// `cairn start --dev --ephemeral`, Anvil beside it), the median of a few starts, and the CPU the
// process used until then (less sensitive than wall time to a loaded machine).
import { spawn } from 'node:child_process'
import { cpuMsOf, freePort } from './targets.ts'

export interface StartFigure {
  /** Median wall time to the first answered eth_chainId, ms. */
  medianMs: number
  /** Median CPU (user + system) the process used by then, ms; undefined off Linux. */
  cpuMs: number | undefined
}

async function once(cmd: string, args: (port: number) => string[]): Promise<{ ms: number; cpu: number | undefined }> {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(cmd, args(port), { stdio: 'ignore' })
  const exited = new Promise((r) => child.once('exit', r))
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${cmd} exited (${child.exitCode}) before answering`)
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
    return { ms: performance.now() - started, cpu: child.pid ? cpuMsOf(child.pid) : undefined }
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** Starts the node `runs` times, one after the other. */
export async function measureStart(cmd: string, args: (port: number) => string[], runs = 3): Promise<StartFigure> {
  const all: { ms: number; cpu: number | undefined }[] = []
  for (let i = 0; i < runs; i++) all.push(await once(cmd, args))
  const cpus = all.map((a) => a.cpu).filter((c): c is number => c !== undefined)
  return {
    medianMs: Math.round(median(all.map((a) => a.ms))),
    cpuMs: cpus.length ? Math.round(median(cpus)) : undefined,
  }
}
