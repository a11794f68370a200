#!/usr/bin/env node
// A webhook receiver for Alertmanager (deploy/alertmanager/alertmanager.yml) that writes each
// notification as one JSON line on stdout: in the compose file its output is shipped to the log
// store with every other container's (docs/operations/observability.md), so the alerts that fired
// and resolved are searchable there, and a test can read what Alertmanager delivered. It stands in
// for a paging bridge; it answers 200 to every well-formed notification and 400 to anything else.
//
//   node deploy/alertmanager/webhook-log.mjs [--port 9095] [--host 0.0.0.0]
//
// One line per alert of the notification: {"msg":"alert","receiver":"on-call","path":"/on-call",
// "status":"firing","alertname":"CairnNodeDown","instance":"…","severity":"critical",
// "startsAt":"…","endsAt":"…","summary":"…","groupKey":"…"}.
import { createServer } from 'node:http'

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback
}
const port = Number(arg('port', process.env.ALERT_WEBHOOK_PORT ?? '9095'))
const host = arg('host', '0.0.0.0')
const MAX_BODY = 1024 * 1024

const line = (fields) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`)

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return void res.writeHead(200).end('ok')
  if (req.method !== 'POST') return void res.writeHead(405).end()
  const chunks = []
  let size = 0
  req.on('data', (c) => {
    size += c.length
    if (size > MAX_BODY) req.destroy()
    else chunks.push(c)
  })
  req.on('end', () => {
    let n
    try {
      n = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      return void res.writeHead(400).end('not JSON')
    }
    if (!n || !Array.isArray(n.alerts)) return void res.writeHead(400).end('not an Alertmanager notification')
    for (const a of n.alerts)
      line({
        level: a.status === 'firing' ? 'warn' : 'info',
        msg: 'alert',
        receiver: n.receiver,
        path: req.url,
        status: a.status,
        alertname: a.labels?.alertname,
        instance: a.labels?.instance,
        severity: a.labels?.severity,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        summary: a.annotations?.summary,
        groupKey: n.groupKey,
      })
    res.writeHead(200).end()
  })
})
server.listen(port, host, () => line({ level: 'info', msg: 'alert webhook listening', port: server.address().port }))
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)))
