/**
 * `GET /dag` of a GhostDAG node: one self-contained page (inline script and SVG, nothing loaded
 * from elsewhere) that draws the live DAG from the node's own JSON-RPC, as Kaspa's visualizers do
 * (docs/consensus/ghostdag.md, "The DAG page"). Its CSP allows exactly its own script and style
 * (by hash) and requests to the same origin.
 */
import { createHash } from 'node:crypto'
import type { HtmlPage } from '@cairn/rpc'
import { DAG_PAGE_SCRIPT } from './dag-page-script.ts'

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 16px; color: #111; background: #fff; }
h1 { font-size: 18px; margin: 0 0 8px; }
#totals { font-weight: 600; }
#shown, .legend { color: #444; margin: 4px 0; }
#error { color: #b91c1c; }
.wrap { overflow-x: auto; border: 1px solid #ddd; margin-top: 8px; }
.edge { stroke: #bbb; stroke-width: 1; }
.edge.sp { stroke: #888; stroke-width: 1.5; }
.edge.chain { stroke: #111; stroke-width: 3; }
.block rect { stroke: #555; stroke-width: 1; }
.block.blue rect { fill: #3b82f6; }
.block.red rect { fill: #ef4444; }
.block.none rect { fill: #d1d5db; }
.block.chain.none rect { fill: #93c5fd; }
.block.chain rect { stroke: #111; stroke-width: 3; }
.block.sink rect { stroke: #f59e0b; }
.block text { font: 10px ui-monospace, monospace; text-anchor: middle; fill: #fff; pointer-events: none; }
.block.none text { fill: #111; }
.key { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; border: 1px solid #555; }
.k-blue { background: #3b82f6; } .k-red { background: #ef4444; } .k-none { background: #d1d5db; }
.k-chain { border: 3px solid #111; } .k-sink { border: 3px solid #f59e0b; }
`

const BODY = `<h1>GhostDAG DAG</h1>
<div id="totals">loading…</div>
<div id="shown"></div>
<div class="legend"><span class="key k-blue"></span> blue
 <span class="key k-red"></span> red
 <span class="key k-none"></span> not yet merged
 <span class="key k-chain"></span> selected chain (bold edges: selected parents)
 <span class="key k-sink"></span> virtual selected parent · x: blue score</div>
<div id="error"></div>
<div class="wrap"><svg id="dag" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="GhostDAG blocks"></svg></div>`

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

/** The page and its CSP. */
export function dagPage(): HtmlPage {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cairn · GhostDAG DAG</title>
<style>${STYLE}</style></head>
<body>${BODY}
<script>${DAG_PAGE_SCRIPT}</script></body></html>
`
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(DAG_PAGE_SCRIPT)}`,
    `style-src ${sha256(STYLE)}`,
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
  return { path: '/dag', html, csp }
}
