// The unit tier's guard (vitest setupFiles of the `unit` project): a unit test opens no socket and
// starts no process. Anything that tries fails at once with the way out, so a test lands in the
// right tier by construction rather than by a list someone keeps up to date.
import childProcess from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'
import net from 'node:net'

function refuse(what: string): () => never {
  return () => {
    throw new Error(
      `a unit test may not ${what}: name the file *.int.test.ts (integration tier: in-process node, sockets, LevelDB) or *.e2e.test.ts (processes, real clients)`,
    )
  }
}

net.Server.prototype.listen = refuse('listen on a socket')
net.Socket.prototype.connect = refuse('open a network connection')
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  Object.assign(childProcess, { [name]: refuse(`start a process (child_process.${name})`) })
}
syncBuiltinESMExports()
