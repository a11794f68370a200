// The auditor report as CSV and PDF: the same content as the JSON, one fact per CSV row
// (`section,key,value,detail`), and the PDF as those facts in text with the signed JSON attached
// (`report.json`, an embedded file any PDF reader lists) so that the PDF alone can be verified.
import { decodePDFRawStream, PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream, rgb, StandardFonts } from 'pdf-lib'
import type { SnapshotReport } from './report.ts'

type Row = [section: string, key: string, value: string, detail: string]

/** The report's facts in order (shared by the CSV and the PDF). */
export function reportRows(r: SnapshotReport): Row[] {
  const rows: Row[] = [
    ['report', 'kind', r.kind, ''],
    ['report', 'version', String(r.version), ''],
    ['report', 'generatedAt', r.generatedAt, ''],
    ['snapshot', 'id', r.snapshot.id, ''],
    ['snapshot', 'hash', r.snapshot.hash, ''],
    ['snapshot', 'root', r.snapshot.root, ''],
    ['snapshot', 'userCount', String(r.snapshot.userCount), ''],
    ['snapshot', 'leafCount', String(r.snapshot.leafCount), `depth=${r.snapshot.depth}`],
    ['snapshot', 'createdAt', r.snapshot.createdAt, ''],
    ['snapshot', 'builtAt', r.snapshot.builtAt ?? '', ''],
  ]
  for (const t of r.totals) rows.push(['total', t.symbol, t.amount, `decimals=${t.decimals}`])
  if (r.anchor) for (const k of Object.keys(r.anchor).sort()) rows.push(['anchor', k, String(r.anchor[k]), ''])
  else rows.push(['anchor', 'none', '', 'not anchored'])
  const rec = r.reconciliation as {
    id: string
    status: string
    at: string | null
    currencies: { symbol: string; liabilities: string; assets: string; ratio: string | null; status: string }[]
  } | null
  if (rec) {
    rows.push(['reconciliation', 'id', rec.id, `status=${rec.status};at=${rec.at ?? ''}`])
    for (const c of rec.currencies)
      rows.push([
        'reconciliation',
        c.symbol,
        c.ratio === null ? '' : String(c.ratio),
        `liabilities=${c.liabilities};assets=${c.assets};status=${c.status}`,
      ])
  } else rows.push(['reconciliation', 'none', '', 'no completed reconciliation of this snapshot'])
  const s = r.samples
  rows.push([
    'samples',
    'seed',
    s.seed,
    `requested=${s.requested};drawn=${s.drawn};verified=${s.verified};failed=${s.failed}`,
  ])
  for (const [i, p] of s.proofs.entries())
    rows.push([
      'sample',
      String(i),
      p.ok ? 'ok' : 'failed',
      `leafIndex=${p.leafIndex};leafHash=${p.leafHash ?? ''};ref=${p.ref}${p.reason ? `;reason=${p.reason}` : ''}`,
    ])
  const a = r.auditChain
  rows.push([
    'audit',
    'chain',
    a.ok ? 'ok' : 'broken',
    a.ok ? `count=${a.count};head=${a.head};prunedThrough=${a.prunedThrough ?? 0}` : (a.reason ?? ''),
  ])
  if (r.signature) {
    rows.push(['signature', 'alg', r.signature.alg, ''])
    rows.push(['signature', 'keyId', r.signature.keyId, ''])
    rows.push(['signature', 'publicKey', r.signature.publicKey, ''])
    rows.push(['signature', 'value', r.signature.value, 'over the canonical JSON (GET …/report?format=json)'])
  } else rows.push(['signature', 'none', '', 'unsigned: the service has no report key'])
  return rows
}

const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)

export function reportCsv(r: SnapshotReport): string {
  const lines = [['section', 'key', 'value', 'detail'], ...reportRows(r)].map((row) => row.map(csvField).join(','))
  return `${lines.join('\r\n')}\r\n`
}

/** Splits a line into pieces of at most `width` characters. */
function wrap(line: string, width: number): string[] {
  if (line.length <= width) return [line]
  const out: string[] = []
  for (let i = 0; i < line.length; i += width) out.push((i === 0 ? '' : '    ') + line.slice(i, i + width))
  return out
}

/**
 * The PDF (A4, Courier): a title, the facts one per line, and the signed JSON attached. Saved
 * without object streams; its title and subject carry the snapshot id and root.
 */
export async function reportPdf(r: SnapshotReport): Promise<Uint8Array> {
  const doc = await PDFDocument.create()
  const when = new Date(r.generatedAt)
  doc.setTitle(`Cairn reserves report: snapshot ${r.snapshot.id}`)
  doc.setSubject(`root ${r.snapshot.root}`)
  doc.setKeywords(['cairn', 'proof of reserves', r.snapshot.id, r.snapshot.root])
  doc.setProducer('cairn reserves')
  doc.setCreator('cairn reserves')
  doc.setCreationDate(when)
  doc.setModificationDate(when)
  const font = await doc.embedFont(StandardFonts.Courier)
  const bold = await doc.embedFont(StandardFonts.CourierBold)
  const size = 8.5
  const lineH = 11
  const [W, H] = [595.28, 841.89]
  const margin = 40
  const width = Math.floor((W - 2 * margin) / (size * 0.6)) - 1
  let page = doc.addPage([W, H])
  let y = H - margin
  const line = (text: string, f = font, color = rgb(0, 0, 0)) => {
    for (const piece of wrap(text, width)) {
      if (y < margin) {
        page = doc.addPage([W, H])
        y = H - margin
      }
      page.drawText(piece, { x: margin, y, size, font: f, color })
      y -= lineH
    }
  }
  line(`Cairn reserves: auditor report of snapshot ${r.snapshot.id}`, bold)
  line(`generated ${r.generatedAt}`)
  y -= lineH / 2
  let section = ''
  for (const [sec, key, value, detail] of reportRows(r)) {
    if (sec !== section) {
      y -= lineH / 2
      line(sec.toUpperCase(), bold)
      section = sec
    }
    line(`  ${key}: ${value}${detail ? `  (${detail})` : ''}`)
  }
  y -= lineH
  line(
    'The signed JSON is attached as report.json: cairn reserves report verify --file <this pdf>',
    font,
    rgb(0.3, 0.3, 0.3),
  )
  await doc.attach(new TextEncoder().encode(JSON.stringify(r)), 'report.json', {
    mimeType: 'application/json',
    description: 'The signed report (canonical JSON signature in .signature)',
    creationDate: when,
    modificationDate: when,
  })
  return doc.save({ useObjectStreams: false })
}

/** The report.json attached to a report PDF (null when there is none). */
export async function reportFromPdf(bytes: Uint8Array): Promise<unknown | null> {
  const doc = await PDFDocument.load(bytes, { updateMetadata: false })
  const names = doc.catalog.lookupMaybe(PDFName.of('Names'), PDFDict)
  const files = names?.lookupMaybe(PDFName.of('EmbeddedFiles'), PDFDict)
  const list = files?.lookupMaybe(PDFName.of('Names'), PDFArray)
  if (!list) return null
  for (let i = 0; i + 1 < list.size(); i += 2) {
    const spec = list.lookup(i + 1, PDFDict)
    const ef = spec.lookupMaybe(PDFName.of('EF'), PDFDict)
    const stream = ef?.lookup(PDFName.of('F'))
    if (!(stream instanceof PDFRawStream)) continue
    const text = new TextDecoder().decode(decodePDFRawStream(stream).decode())
    try {
      const json = JSON.parse(text) as { kind?: unknown }
      if (json && json.kind === 'cairn-reserves-report') return json
    } catch {
      // another attachment
    }
  }
  return null
}
