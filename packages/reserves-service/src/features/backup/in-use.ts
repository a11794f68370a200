// PGlite keeps no lock on its data directory (a second process can open it and both would write),
// so "is the service running on this datadir?" is answered from /proc: the processes with a file
// under the directory open. Linux only; elsewhere the answer is "unknown" (an empty list).
import { readdirSync, readlinkSync } from 'node:fs'
import { resolve, sep } from 'node:path'

/** Ids of the processes (not this one) holding a file under `dir` open. */
export function processesUsing(dir: string, procRoot = '/proc'): number[] {
  const root = resolve(dir) + sep
  let pids: string[]
  try {
    pids = readdirSync(procRoot).filter((p) => /^\d+$/.test(p))
  } catch {
    return []
  }
  const found: number[] = []
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue
    let fds: string[]
    try {
      fds = readdirSync(`${procRoot}/${pid}/fd`)
    } catch {
      continue // gone, or another user's
    }
    for (const fd of fds) {
      let target: string
      try {
        target = readlinkSync(`${procRoot}/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      if (target.startsWith(root)) {
        found.push(Number(pid))
        break
      }
    }
  }
  return found
}
