// The console's only way to put anything on the page: elements made with createElement, every
// value a text node — never innerHTML — so a value such as "<script>" shows as those characters.
// Typed against the few DOM members the console uses (the repository's tsconfig has no DOM lib),
// which also lets the unit test run it on a stub document.

export interface DomNode {
  readonly nodeType: number
}

export interface DomEvent {
  preventDefault(): void
  readonly key?: string
}

export interface DomElement extends DomNode {
  appendChild(child: DomNode): unknown
  replaceChildren(...nodes: DomNode[]): void
  setAttribute(name: string, value: string): void
  removeAttribute(name: string): void
  addEventListener(type: string, listener: (event: DomEvent) => void): void
  textContent: string | null
  hidden: boolean
  focus(): void
  click(): void
  remove(): void
  querySelector(selector: string): DomElement | null
}

/** An input, select or button: what a form reads and disables. */
export interface DomField extends DomElement {
  value: string
  disabled: boolean
}

export interface DomDocument {
  createElement(tag: string): DomElement
  createTextNode(text: string): DomNode
}

/** What may be a child: a node, or a value shown as text; null, undefined and false are skipped. */
export type Child = DomNode | string | number | bigint | null | undefined | false | readonly Child[]

/** Attributes (set with setAttribute: text, never markup) and `on…` listeners. */
export type Props = Record<string, string | number | boolean | null | undefined | ((event: DomEvent) => void)>

/** The console's markup builder over one document. */
export interface Ui {
  /** `h('td', { class: 'num' }, value)`: an element whose children are nodes or text. */
  h(tag: string, props?: Props | null, ...children: Child[]): DomElement
  /** A text node holding `value` as characters. */
  text(value: string | number | bigint): DomNode
  /** Replaces the children of `el`. */
  fill(el: DomElement, ...children: Child[]): DomElement
}

const TAG = /^[a-z][a-z0-9]*$/
const ATTRIBUTE = /^[a-z][a-z0-9-]*$/
/** URLs an href may hold: the page's own (relative, #fragments), http(s) and the console's blob downloads. */
const SAFE_URL = /^(?:[#./?]|https?:|blob:|[\w.~-]+(?:[/?#]|$))/i

function isNode(v: unknown): v is DomNode {
  return typeof v === 'object' && v !== null && typeof (v as DomNode).nodeType === 'number'
}

/**
 * The builder over `doc`. It refuses what would let data become code: unknown tag or attribute
 * names, event-handler attributes given as text (`onclick="…"`), and `href`/`src` values with a
 * scheme other than http(s) or blob (`javascript:`).
 */
export function makeUi(doc: DomDocument): Ui {
  const text = (value: string | number | bigint) => doc.createTextNode(String(value))
  const append = (el: DomElement, children: readonly Child[]) => {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue
      if (Array.isArray(c)) append(el, c)
      else if (isNode(c)) el.appendChild(c)
      else el.appendChild(text(c as string | number | bigint))
    }
  }
  const h = (tag: string, props?: Props | null, ...children: Child[]): DomElement => {
    if (!TAG.test(tag)) throw new TypeError(`not an element name: ${JSON.stringify(tag)}`)
    const el = doc.createElement(tag)
    for (const [name, v] of Object.entries(props ?? {})) {
      if (v === null || v === undefined || v === false) continue
      if (typeof v === 'function') {
        if (!name.startsWith('on')) throw new TypeError(`a listener needs an on… name, not ${name}`)
        el.addEventListener(name.slice(2).toLowerCase(), v)
        continue
      }
      if (!ATTRIBUTE.test(name) || name.startsWith('on'))
        throw new TypeError(`attribute ${JSON.stringify(name)} is not allowed (listeners are functions)`)
      const value = v === true ? '' : String(v)
      if ((name === 'href' || name === 'src' || name === 'action') && !SAFE_URL.test(value.trim()))
        throw new TypeError(`${name} ${JSON.stringify(value.slice(0, 40))} is not a relative, http(s) or blob URL`)
      el.setAttribute(name, value)
    }
    append(el, children)
    return el
  }
  const fill = (el: DomElement, ...children: Child[]) => {
    el.replaceChildren()
    append(el, children)
    return el
  }
  return { h, text, fill }
}
