/**
 * Values bound into SQL. Servers from 19.6 bind `{name:Type}` parameters themselves; for older
 * ones the same placeholders are replaced here by literals escaped for their declared type, so
 * every query the project builds is written once, with placeholders, and never concatenates a
 * value.
 */

export type ParamValue = string | number | boolean | Array<string | number>

const placeholder = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_(), ]+)\}/g
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/

/** A database or table name: validated, then quoted, since identifiers cannot be parameters. */
export function identifier (name: string): string {
  if (!identifierPattern.test(name)) {
    throw new Error(`not a valid identifier: ${JSON.stringify(name)}`)
  }
  return `\`${name}\``
}

export function bindLiterals (sql: string, params: Record<string, ParamValue>): string {
  return sql.replace(placeholder, (_, name: string, type: string) => {
    if (!(name in params)) {
      throw new Error(`no value for query parameter ${name}`)
    }
    return literal(params[name], type.trim())
  })
}

function literal (value: ParamValue, type: string): string {
  const arrayOf = /^Array\((.+)\)$/.exec(type)
  if (arrayOf !== null) {
    if (!Array.isArray(value)) {
      throw new Error(`expected an array for ${type}`)
    }
    return `[${value.map((item) => literal(item, arrayOf[1])).join(', ')}]`
  }
  if (Array.isArray(value)) {
    throw new Error(`an array cannot bind to ${type}`)
  }

  if (/^U?Int\d+$/.test(type)) {
    // Kept as text so that 64-bit values stay exact; the pattern admits nothing but digits.
    const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value)
      : typeof value === 'string' ? value : ''
    const pattern = type.startsWith('U') ? /^\d+$/ : /^-?\d+$/
    if (!pattern.test(text)) {
      throw new Error(`expected ${type.startsWith('U') ? 'a non-negative' : 'an'} integer for ${type}, got ${JSON.stringify(value)}`)
    }
    return text
  }
  if (/^Float\d+$/.test(type)) {
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw new Error(`expected a finite number for ${type}, got ${JSON.stringify(value)}`)
    }
    return String(number)
  }
  if (type === 'String' || type === 'DateTime' || type === 'Date') {
    return quote(String(value))
  }
  throw new Error(`unsupported parameter type ${type}`)
}

/** A ClickHouse string literal: backslash and quote escaped, control bytes as \xNN. */
export function quote (text: string): string {
  const escaped = text.replace(/[\\']/g, (character) => `\\${character}`)
    .replace(/[\u0000-\u001f]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return `'${escaped}'`
}
