import {readFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** templates/ at the package root (this file runs from dist/src/init/). */
export const TEMPLATES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'templates')

export type TemplateValues = Record<string, string | number | boolean>

/**
 * A deliberately tiny mustache subset, so templates stay readable as the files they become:
 * `{{name}}` inserts a value, `{{#flag}}…{{/flag}}` keeps its body when the flag is truthy,
 * `{{^flag}}…{{/flag}}` when it is falsy. Sections may nest but not repeat a name inside itself.
 * A name the values lack is an error, so a typo in a template fails the tests instead of shipping
 * an empty string. A section tag alone on its line takes the line with it.
 */
export function renderTemplate(template: string, values: TemplateValues): string {
  const lookup = (name: string) => {
    if (!(name in values)) throw new Error(`template value \`${name}\` is missing`)
    return values[name]
  }
  const standalone = /^[ \t]*(\{\{[#^/][\w-]+\}\})[ \t]*\n/gm
  let text = template.replace(standalone, '$1')
  const section = /\{\{([#^])([\w-]+)\}\}([\s\S]*?)\{\{\/\2\}\}/
  for (let match = section.exec(text); match; match = section.exec(text)) {
    const [whole, kind, name, body] = match
    const keep = kind === '#' ? Boolean(lookup(name)) : !lookup(name)
    text = text.slice(0, match.index) + (keep ? body : '') + text.slice(match.index + whole.length)
  }
  return text.replace(/\{\{([\w-]+)\}\}/g, (_, name: string) => String(lookup(name)))
}

export async function renderTemplateFile(name: string, values: TemplateValues): Promise<string> {
  return renderTemplate(await readFile(join(TEMPLATES_DIR, name), 'utf8'), values)
}
