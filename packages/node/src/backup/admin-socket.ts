import { chmodSync, existsSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { CairnError, type CairnErrorCode, isCairnError, type Logger } from '@cairn/utils'
import { z } from 'zod'
import { NodeErrorCode } from '../errors.ts'

/**
 * The node's local admin endpoint: a Unix socket `DATADIR/admin.sock` (mode 0600, so only the
 * datadir's owner can use it), one JSON request line → one JSON response line. It exists because
 * a running node holds LevelDB's lock: a `cairn db backup` process cannot open the database, so
 * it asks the node, which takes the backup from its own snapshot.
 */
export const ADMIN_SOCKET = 'admin.sock'

export const adminRequestSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('backup'), out: z.string().min(1) }).strict(),
  z.object({ op: z.literal('ping') }).strict(),
])
export type AdminRequest = z.output<typeof adminRequestSchema>
export type AdminResponse = { ok: true; result: unknown } | { ok: false; code: CairnErrorCode; message: string }

export type AdminHandler = (req: AdminRequest) => Promise<unknown>

export class AdminSocket {
  private server: Server | null = null

  constructor(
    private readonly opts: { path: string },
    private readonly modules: { handle: AdminHandler; logger: Logger },
  ) {}

  async listen(): Promise<void> {
    // A stale socket from a killed node: this process holds the datadir's lock, so nobody else serves it.
    if (existsSync(this.opts.path)) unlinkSync(this.opts.path)
    const server = createServer((socket) => this.serve(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.path, () => resolve())
    })
    chmodSync(this.opts.path, 0o600)
    this.server = server
  }

  private serve(socket: Socket): void {
    let buf = ''
    socket.setEncoding('utf8')
    socket.on('error', () => socket.destroy())
    socket.on('data', (chunk: string) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl < 0) {
        if (buf.length > 64 * 1024) socket.destroy()
        return
      }
      const line = buf.slice(0, nl)
      buf = ''
      void this.answer(line).then((res) => socket.end(`${JSON.stringify(res)}\n`))
    })
  }

  private async answer(line: string): Promise<AdminResponse> {
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch {
      return { ok: false, code: NodeErrorCode.ADMIN_BAD_REQUEST, message: 'request is not JSON' }
    }
    const parsed = adminRequestSchema.safeParse(json)
    if (!parsed.success)
      return {
        ok: false,
        code: NodeErrorCode.ADMIN_BAD_REQUEST,
        message: parsed.error.issues[0]?.message ?? 'bad request',
      }
    try {
      return { ok: true, result: await this.modules.handle(parsed.data) }
    } catch (err) {
      const code: CairnErrorCode = isCairnError(err) ? err.code : 'ADMIN_FAILED'
      this.modules.logger.warn(
        { op: parsed.data.op, code },
        `admin ${parsed.data.op} failed: ${(err as Error).message}`,
      )
      return { ok: false, code, message: (err as Error).message }
    }
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = null
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
    if (existsSync(this.opts.path)) unlinkSync(this.opts.path)
  }
}

/** Sends one request to a node's admin socket; `undefined` when no node listens there. */
export function adminRequest(path: string, req: AdminRequest, timeoutMs = 600_000): Promise<unknown | undefined> {
  return new Promise((resolve, reject) => {
    if (!existsSync(path)) return resolve(undefined)
    const socket = createConnection(path)
    let buf = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(
        new CairnError(NodeErrorCode.ADMIN_TIMEOUT, `the node did not answer ${req.op} within ${timeoutMs / 1000} s`, {
          fault: 'transient',
        }),
      )
    }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`))
    socket.on('data', (chunk: string) => {
      buf += chunk
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(undefined)
      else reject(err)
    })
    socket.on('end', () => {
      clearTimeout(timer)
      let res: AdminResponse
      try {
        res = JSON.parse(buf) as AdminResponse
      } catch {
        return reject(
          new CairnError(NodeErrorCode.ADMIN_BAD_RESPONSE, 'the node answered something that is not JSON', {
            fault: 'internal',
          }),
        )
      }
      if (res.ok) resolve(res.result)
      else reject(new CairnError(res.code, res.message, { fault: 'caller' }))
    })
  })
}
