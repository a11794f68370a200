// A process that started the native KZG setup (`blobKzg().prepare()`, what a node does a second
// after it answers) and exits during it exits at once, and leaves no KZG process behind. The
// setup (~4–5 s of CPU, 20 s and more on a loaded machine) used to run on a worker thread, which
// `process.exit` joins: a node stopped during it lingered 3–22 s after "stopped cleanly".
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const INDEX = fileURLToPath(new URL('../src/index.ts', import.meta.url))

/** Running (a zombie waiting for its reaper counts as gone). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

it('process.exit during the KZG setup exits at once and takes the KZG process with it', async () => {
  // Exits once the binding is loaded (mapped into this process or a child of it: its setup is the
  // next call), 300 ms into the setup.
  const script = `
    import { execFileSync } from 'node:child_process'
    import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
    import { blobKzg } from ${JSON.stringify(INDEX)}
    const children = () =>
      execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' })
        .trim().split(/\\s+/).filter((p) => p !== '')
    const mapped = (pid) => { try { return readFileSync('/proc/' + pid + '/maps', 'utf8').includes('node-eth-kzg') } catch { return false } }
    blobKzg().prepare()
    const poll = setInterval(() => {
      const kids = children()
      if (!mapped(process.pid) && !kids.some(mapped)) return
      clearInterval(poll)
      setTimeout(() => {
        console.log('children ' + kids.join(','))
        console.log('exiting ' + Date.now())
        process.exit(0)
      }, 300)
    }, 20)
  `
  // A file, not `--input-type=module -e`: a worker thread inherits the flags, and would read its
  // CommonJS source as a module.
  const dir = mkdtempSync(join(tmpdir(), 'cairn-kzg-exit-'))
  writeFileSync(join(dir, 'exit-during-setup.mjs'), script)
  const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'exit-during-setup.mjs')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
  })
  child.stderr.on('data', (d) => {
    out += d
  })
  // Before the fix, the process stayed until the setup ended (the worker thread joined): 20–60 s here.
  const exited = await new Promise<{ code: number | null; at: number }>((resolve) => {
    let killed = false
    const limit = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, 30_000)
    child.on('close', (code) => {
      clearTimeout(limit)
      resolve({ code, at: killed ? Number.POSITIVE_INFINITY : Date.now() })
    })
  })
  rmSync(dir, { recursive: true, force: true })
  const said = /exiting (\d+)/.exec(out)
  expect(said, out).not.toBeNull()
  expect(exited.at - Number(said?.[1]), 'ms from process.exit to the process gone').toBeLessThan(1000)
  expect(exited.code, out).toBe(0)
  // The KZG process (started by prepare) is gone with it.
  const kids = (/children ([\d,]*)/.exec(out)?.[1] ?? '')
    .split(',')
    .filter((p) => p !== '')
    .map(Number)
  expect(kids.length, out).toBeGreaterThan(0)
  await new Promise((r) => setTimeout(r, 200))
  expect(kids.filter(running)).toEqual([])
}, 60_000)
