/*
 * json.ts - JSON text to and from JavaScript values, exact for int64.
 *
 * atomicdoc keeps integers that fit int64 exact; JavaScript numbers are exact only up
 * to 2^53 - 1. So:
 *   - parse: an integer literal (no '.', no exponent) outside the safe range becomes a
 *     BigInt; every other number is a JavaScript number. The server prints doubles
 *     with a '.' or an exponent, so a double never comes back as a BigInt.
 *   - stringify: a BigInt is written as its digits; numbers must be finite (the
 *     server refuses NaN and Infinity, so we refuse them before sending); otherwise the
 *     same rules as JSON.stringify (toJSON, undefined members skipped, undefined array
 *     elements as null).
 * JSON.parse is used whenever the text has no run of 16 or more digits (no number in
 * it can be unsafe); otherwise our own parser runs. It is iterative, so a document
 * nested as deep as the server allows (10000) cannot overflow the stack.
 */

/** A JSON value as this package hands it out: int64 beyond 2^53 as BigInt. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A number or a BigInt from the decimal digits of an integer (a reply or a literal). */
export function intFromText(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  const b = BigInt(text);
  return b > MAX_SAFE || b < -MAX_SAFE ? b : Number(b);
}

/** Parses JSON text as the server prints it (see the file comment for numbers). */
export function parseJson(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  return parseSlow(text);
}

const WS = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERAL = /true|false|null/y;

interface Frame {
  container: unknown[] | Record<string, unknown>; // the array or object being filled
  key: string; // for objects: the member name whose value comes next
}

function parseSlow(text: string): unknown {
  let pos = 0;
  const stack: Frame[] = [];
  const fail = (what: string): never => {
    throw new SyntaxError(`atomicdoc: bad JSON from the server (${what} at ${pos})`);
  };
  const skip = () => {
    WS.lastIndex = pos;
    WS.exec(text);
    pos = WS.lastIndex;
  };
  const match = (re: RegExp): RegExpExecArray | null => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m) pos = re.lastIndex;
    return m;
  };
  // Reads `"name" :` into the innermost (object) frame.
  const memberName = (top: Frame) => {
    skip();
    const m = match(STRING) ?? fail('expected a member name');
    top.key = JSON.parse(m[0]) as string;
    skip();
    if (text[pos] !== ':') fail('expected :');
    pos++;
  };

  for (;;) {
    // Expecting a value.
    skip();
    const c = text[pos];
    let value: unknown;
    if (c === '{' || c === '[') {
      pos++;
      skip();
      const close = c === '[' ? ']' : '}';
      if (text[pos] !== close) {
        // A '__proto__' member must become an own property, as JSON.parse makes it.
        const frame: Frame = { container: c === '[' ? [] : Object.create(null), key: '' };
        stack.push(frame);
        if (c === '{') memberName(frame);
        continue;
      }
      pos++;
      value = c === '[' ? [] : {};
    } else {
      let m: RegExpExecArray | null;
      if (c === '"') {
        m = match(STRING) ?? fail('bad string');
        value = JSON.parse(m[0]);
      } else if ((m = match(NUMBER))) {
        value = m[1] === undefined && m[2] === undefined ? intFromText(m[0]) : Number(m[0]);
      } else if ((m = match(LITERAL))) {
        value = m[0] === 'null' ? null : m[0] === 'true';
      } else {
        return fail('unexpected character');
      }
    }
    // A value is complete: store it, then close every container that ends here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        skip();
        if (pos !== text.length) fail('trailing characters');
        return toPlain(value);
      }
      if (Array.isArray(top.container)) top.container.push(value);
      else top.container[top.key] = value;
      skip();
      const close = Array.isArray(top.container) ? ']' : '}';
      if (text[pos] === ',') {
        pos++;
        if (!Array.isArray(top.container)) memberName(top);
        break;
      }
      if (text[pos] !== close) fail('expected , or ' + close);
      pos++;
      stack.pop();
      value = top.container;
    }
  }
}

// Our parser builds objects without a prototype (so "__proto__" is an ordinary member);
// hand out ordinary objects, as JSON.parse does.
function toPlain(v: unknown): unknown {
  const todo: unknown[] = [v];
  while (todo.length) {
    const x = todo.pop();
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const e = x[i];
        if (e !== null && typeof e === 'object') {
          x[i] = Array.isArray(e) ? e : Object.setPrototypeOf(e, Object.prototype);
          todo.push(x[i]);
        }
      }
    } else if (x !== null && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const e = o[k];
        if (e !== null && typeof e === 'object') {
          if (!Array.isArray(e)) Object.setPrototypeOf(e, Object.prototype);
          todo.push(e);
        }
      }
    }
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.setPrototypeOf(v, Object.prototype);
  return v;
}

/**
 * JSON text of a JavaScript value, with BigInt written as its digits. Throws a
 * TypeError for values JSON cannot hold (NaN, Infinity, functions, symbols, cycles)
 * instead of sending something the server would misread.
 */
export function stringifyJson(value: unknown): string {
  const seen = new Set<object>();
  const out: string[] = [];
  const write = (v: unknown, holder: unknown, key: string): boolean => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: (k: string) => unknown }).toJSON(key);
    }
    switch (typeof v) {
      case 'string':
        out.push(JSON.stringify(v));
        return true;
      case 'number':
        if (!Number.isFinite(v)) throw new TypeError(`atomicdoc: ${v} is not a JSON number`);
        out.push(String(v));
        return true;
      case 'bigint':
        out.push(v.toString());
        return true;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return true;
      case 'undefined':
      case 'function':
      case 'symbol':
        if (holder === undefined) throw new TypeError(`atomicdoc: a ${typeof v} is not a JSON value`);
        return false;
    }
    if (v === null) {
      out.push('null');
      return true;
    }
    const o = v as object;
    if (seen.has(o)) throw new TypeError('atomicdoc: a cyclic value is not JSON');
    seen.add(o);
    if (Array.isArray(o)) {
      out.push('[');
      o.forEach((e, i) => {
        if (i) out.push(',');
        if (!write(e, o, String(i))) out.push('null');
      });
      out.push(']');
    } else {
      out.push('{');
      let first = true;
      for (const k of Object.keys(o)) {
        const mark = out.length;
        out.push(first ? '' : ',', JSON.stringify(k), ':');
        if (write((o as Record<string, unknown>)[k], o, k)) first = false;
        else out.length = mark;
      }
      out.push('}');
    }
    seen.delete(o);
    return true;
  };
  write(value, undefined, '');
  return out.join('');
}
