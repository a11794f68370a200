import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CairnError, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { HealthChecks } from './health.ts'

export interface MetricsServerOptions {
  host: string
  /** 0 = any free port. */
  port: number
}

/**
 * A listener of its own for Prometheus (`--metrics.port`, geth's `--metrics.addr/port`): `GET /metrics`,
 * `GET /health` (liveness) and `GET /ready` (readiness, 503 while a check fails). It serves nothing
 * else, so it can sit on an operations network while the RPC faces clients.
 */
export class MetricsServer {
  private server: Server | undefined

  constructor(
    private readonly opts: MetricsServerOptions,
    private readonly modules: {
      /** What `/metrics` serves: a prom-client registry, or several merged (the node's read threads). */
      registry: Pick<Registry, 'metrics'> & { contentType: string }
      health: HealthChecks | null
      logger: Logger
    },
  ) {}

  /** Starts listening; resolves to `http://host:port`. */
  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      void this.route(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/').then(
        ({ status, type, body }) => {
          res.writeHead(status, { 'content-type': type })
          res.end(body)
        },
        (err) => {
          this.modules.logger.error({ err }, 'metrics endpoint failed')
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end('internal error\n')
        },
      )
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new CairnError(
            'METRICS_LISTEN_FAILED',
            `cannot listen on ${this.opts.host}:${this.opts.port} (${err.code})`,
            {
              fault: 'caller',
              cause: err,
              hint: 'choose another --metrics.port or metrics.host',
            },
          ),
        ),
      )
      server.listen(this.opts.port, this.opts.host, () => resolve())
    })
    const { port } = server.address() as AddressInfo
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host
    return `http://${host}:${port}`
  }

  async close(): Promise<void> {
    const server = this.server
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async route(method: string, path: string): Promise<{ status: number; type: string; body: string }> {
    const json = (status: number, value: unknown) => ({ status, type: 'application/json', body: JSON.stringify(value) })
    if (method !== 'GET' && method !== 'HEAD') return json(405, { error: 'GET only' })
    if (path === '/metrics') {
      const { registry } = this.modules
      return { status: 200, type: registry.contentType, body: await registry.metrics() }
    }
    if (path === '/health') return json(200, { status: 'ok', checks: [] })
    if (path === '/ready') {
      const report = this.modules.health ? await this.modules.health.run() : { status: 'ok' as const, checks: {} }
      const checks = Object.entries(report.checks).map(([name, r]) => ({
        name,
        ok: r.ok,
        detail: r.ok ? `ok in ${r.ms} ms` : (r.error ?? 'failed'),
      }))
      return json(report.status === 'ok' ? 200 : 503, { status: report.status, checks })
    }
    return json(404, { error: 'not found: try /metrics, /health or /ready' })
  }
}
