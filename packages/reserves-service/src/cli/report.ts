// `cairn reserves report`: fetches a snapshot's auditor report from the service (JSON, CSV or PDF)
// into a file; `cairn reserves report verify`: checks a report's Ed25519 signature (JSON, or the
// JSON attached to the PDF), pinned to the custodian's public key when given, and its outcomes.
import { readFileSync, writeFileSync } from 'node:fs'
import { ReservesErrorCode } from '@cairn/reserves'
import { readArgFile } from '@cairn/reserves/cli'
import { CairnError } from '@cairn/utils'
import type { Command } from 'commander'
import { type SnapshotReport, verifyReport } from '../features/compliance/report.ts'
import { reportFromPdf } from '../features/compliance/report-render.ts'

const bad = (message: string, hint?: string) =>
  new CairnError(ReservesErrorCode.BAD_OPTIONS, message, { fault: 'caller', ...(hint ? { hint } : {}) })

export interface FetchReportOptions {
  service: string
  token: string
  snapshot: string
  format: 'json' | 'csv' | 'pdf'
  samples?: number
  seed?: string
}

/** GETs the report; throws with the service's own message on a refusal. */
export async function fetchReport(o: FetchReportOptions): Promise<Uint8Array> {
  const q = new URLSearchParams({ format: o.format })
  if (o.samples !== undefined) q.set('samples', String(o.samples))
  if (o.seed) q.set('seed', o.seed)
  const url = `${o.service.replace(/\/+$/, '')}/v1/snapshots/${encodeURIComponent(o.snapshot)}/report?${q}`
  let res: Response
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${o.token}` } })
  } catch (err) {
    throw new CairnError(ReservesErrorCode.STORAGE_FAILED, `cannot reach ${o.service}: ${(err as Error).message}`, {
      fault: 'transient',
      hint: 'check --service (e.g. http://127.0.0.1:8560)',
    })
  }
  const body = new Uint8Array(await res.arrayBuffer())
  if (!res.ok) {
    let message = new TextDecoder().decode(body).slice(0, 500)
    let hint: string | undefined
    try {
      const e = JSON.parse(message) as { message?: string; hint?: string }
      message = e.message ?? message
      hint = e.hint
    } catch {
      // not JSON: the text as is
    }
    throw new CairnError(
      res.status === 401 || res.status === 403 ? ReservesErrorCode.FORBIDDEN : ReservesErrorCode.BAD_OPTIONS,
      `the service refused the report (${res.status}): ${message}`,
      { fault: 'caller', ...(hint ? { hint } : {}) },
    )
  }
  return body
}

/** The report held by a file: JSON, or a report PDF's attached JSON. */
export async function readReportFile(bytes: Uint8Array, name: string): Promise<unknown> {
  const head = new TextDecoder().decode(bytes.subarray(0, 5))
  if (head === '%PDF-') {
    const r = await reportFromPdf(bytes)
    if (!r) throw bad(`${name} is a PDF without an attached report.json`, 'use a PDF from cairn reserves report')
    return r
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw bad(
      `${name} is neither a report JSON nor a report PDF`,
      'a CSV report is checked through its JSON: --format json',
    )
  }
}

/**
 * Checks a report: its signature (against `publicKey` when given) and what it records (every
 * sampled proof verified, the audit chain intact). Returns the lines to print; throws otherwise.
 */
export function checkReport(report: unknown, publicKey?: string): string[] {
  const v = verifyReport(report, publicKey)
  if (!v.ok)
    throw new CairnError(ReservesErrorCode.INPUT_INVALID, `the report does not verify: ${v.reason}`, {
      fault: 'caller',
    })
  const r = report as SnapshotReport
  const lines = [
    `OK: report of snapshot ${r.snapshot.id} (root ${r.snapshot.root}) generated ${r.generatedAt}, signed by key ${v.keyId}${v.pinned ? ' (the pinned key)' : ''}`,
  ]
  if (!v.pinned) lines.push('  note: pass --public-key (from the custodian, out of band) to know who signed it')
  for (const t of r.totals) lines.push(`  ${t.symbol}: ${t.amount} (decimals ${t.decimals})`)
  lines.push(`  sampled proofs: ${r.samples.verified}/${r.samples.drawn} verified (seed ${r.samples.seed})`)
  const problems: string[] = []
  if (r.samples.failed > 0) problems.push(`${r.samples.failed} sampled proofs failed`)
  if (!r.auditChain.ok) problems.push(`the audit chain is broken (${r.auditChain.reason})`)
  if (problems.length > 0)
    throw new CairnError(
      ReservesErrorCode.INPUT_INVALID,
      `the report is authentic but records failures: ${problems.join('; ')}`,
      {
        fault: 'caller',
      },
    )
  return lines
}

/** Registers `cairn reserves report` and `cairn reserves report verify`. */
export function registerReport(r: Command): void {
  const report = r
    .command('report')
    .description("Fetch a snapshot's signed auditor report (JSON, CSV or PDF) from the service")
    .option('--service <url>', 'the reserves service, e.g. http://127.0.0.1:8560')
    .option('--token-file <file>', 'a bearer token of an admin or auditor')
    .option('--snapshot <id>', 'the snapshot')
    .option('--format <format>', 'json, csv or pdf', 'json')
    .option('--samples <n>', 'proofs sampled and verified (0 to 100)', '8')
    .option('--seed <seed>', 'the sampling seed (default: a random one, recorded in the report)')
    .option('--out <file>', 'where to write the report')
    .action(
      async (o: {
        service?: string
        tokenFile?: string
        snapshot?: string
        format: string
        samples: string
        seed?: string
        out?: string
      }) => {
        for (const [flag, v] of [
          ['--service', o.service],
          ['--token-file', o.tokenFile],
          ['--snapshot', o.snapshot],
          ['--out', o.out],
        ] as const)
          if (!v) throw bad(`cairn reserves report needs ${flag}`, 'see cairn reserves report --help')
        if (!['json', 'csv', 'pdf'].includes(o.format)) throw bad(`--format is json, csv or pdf, not ${o.format}`)
        const samples = Number(o.samples)
        if (!Number.isInteger(samples) || samples < 0 || samples > 100)
          throw bad(`--samples must be a whole number from 0 to 100, not ${o.samples}`)
        const token = readArgFile('--token-file', o.tokenFile as string, 'utf8').trim()
        const bytes = await fetchReport({
          service: o.service as string,
          token,
          snapshot: o.snapshot as string,
          format: o.format as 'json',
          samples,
          ...(o.seed ? { seed: o.seed } : {}),
        })
        writeFileSync(o.out as string, bytes)
        process.stdout.write(`wrote ${o.out} (${o.format}, ${bytes.length} bytes)\n`)
      },
    )
  report
    .command('verify')
    .description('Check a report (JSON or PDF): its Ed25519 signature and the outcomes it records')
    .requiredOption('--file <file>', 'the report, as fetched by cairn reserves report (json or pdf)')
    .option('--public-key <hex>', "the custodian's report public key (64 hex), obtained out of band")
    .action(async (o: { file: string; publicKey?: string }) => {
      let bytes: Uint8Array
      try {
        bytes = new Uint8Array(readFileSync(o.file))
      } catch (err) {
        throw bad(`cannot read --file ${o.file}: ${(err as Error).message}`)
      }
      const lines = checkReport(await readReportFile(bytes, o.file), o.publicKey)
      process.stdout.write(`${lines.join('\n')}\n`)
    })
}
