/*
 * errors.ts - one error class per code word of the server's error replies.
 *
 * Every atomicdoc error reply is one line starting with a code word (README "Errors"):
 * `BADPATH expected a selector at character 2`, `ABORTED op 2: BADTYPE INCR on a
 * string`. toError() turns such a reply into an instance of the class for its word;
 * a word we do not know (one a later server adds, say `SYNTAX`) still becomes an
 * AtomicdocError carrying that `.code`, so callers can always switch on `.code`.
 * Errors that are not replies (a closed connection, a timeout) pass through as the
 * driver raised them.
 */

/** Base class of every error reply; `.code` is the reply's leading word. */
export class AtomicdocError extends Error {
  /** The code word: 'BADPATH', 'ABORTED', 'ERR', 'WRONGTYPE', or a newer one. */
  readonly code: string;
  /** The reply text after the code word. */
  readonly detail: string;
  /** "at byte N" / "at character N" in the reply, when it names a position. */
  readonly position: number | undefined;

  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(detail ? `${code} ${detail}` : code, options);
    this.code = code;
    this.detail = detail;
    const m = /\bat (?:byte|character) (\d+)/.exec(detail);
    this.position = m ? Number(m[1]) : undefined;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** `ERR`: Redis's own arity error (`wrong number of arguments`); the server's other
 * errors have code words of their own (`SYNTAX`, `BADUPDATE`, `TOOBIG` arrive as
 * AtomicdocError with that `.code`). */
export class CommandError extends AtomicdocError {}
/** `BADJSON`: a JSON argument is not valid JSON (`.position` is the byte). */
export class BadJsonError extends AtomicdocError {}
/** `BADPATH`: a path does not compile (`.position` is the character). */
export class BadPathError extends AtomicdocError {}
/** `NOPATH`: the path leads nowhere (an array index past the end, a missing value). */
export class NoPathError extends AtomicdocError {}
/** `BADTYPE`: the value at the path has the wrong JSON type for the command. */
export class BadTypeError extends AtomicdocError {}
/** `OVERFLOW`: int64 overflow or a non-finite double. */
export class OverflowError extends AtomicdocError {}
/** `TOODEEP`: nesting deeper than `atomicdoc.max-depth`. */
export class TooDeepError extends AtomicdocError {}
/** `BADFILTER`: a malformed MongoDB query document. */
export class BadFilterError extends AtomicdocError {}
/** `SYNTAX`: a keyword in the wrong place, a malformed option or DOC.TXN op. */
export class BadSyntaxError extends AtomicdocError {}
/** `BADUPDATE`: a malformed MongoDB update document. */
export class BadUpdateError extends AtomicdocError {}
/** `TOOBIG`: an argument over `atomicdoc.max-document-size`. */
export class TooBigError extends AtomicdocError {}
/** `WRONGTYPE`: the key holds another Redis type. */
export class WrongTypeError extends AtomicdocError {}
/** `OOM`: `maxmemory` reached; nothing changed. */
export class OomError extends AtomicdocError {}
/** `NOPERM`: the ACL user may not run this command or touch this key. */
export class NoPermError extends AtomicdocError {}
/** `CROSSSLOT`: keys of one command live in different cluster slots (use hash tags). */
export class CrossSlotError extends AtomicdocError {}

/**
 * `ABORTED op N: <error>`: a DOC.TXN op failed and the whole TXN was undone.
 * `.index` is the failing op's 0-based position in the order the builder added ops
 * (`.op` is the server's 1-based N); `.opCode` and `.opMessage` are that op's own
 * error (`'CHECK'` for a failed CHECK, `'BADTYPE'`, `'ERR'`, ...), and `.cause` is
 * that error as its own class.
 */
export class AbortedError extends AtomicdocError {
  readonly op: number;
  readonly index: number;
  readonly opCode: string;
  readonly opMessage: string;

  constructor(code: string, detail: string) {
    const m = /^op (\d+): (.*)$/s.exec(detail);
    const op = m ? Number(m[1]) : 0;
    const inner = m ? m[2] : detail;
    const cause = toError(inner);
    super(code, detail, { cause });
    this.op = op;
    this.index = op - 1;
    this.opCode = cause instanceof AtomicdocError ? cause.code : '';
    this.opMessage = inner;
  }
}

type ErrorClass = new (code: string, detail: string) => AtomicdocError;

/** The class for each known code word; anything else maps to AtomicdocError. */
export const errorClasses: Readonly<Record<string, ErrorClass>> = Object.freeze({
  ERR: CommandError,
  BADJSON: BadJsonError,
  BADPATH: BadPathError,
  NOPATH: NoPathError,
  BADTYPE: BadTypeError,
  OVERFLOW: OverflowError,
  TOODEEP: TooDeepError,
  BADFILTER: BadFilterError,
  SYNTAX: BadSyntaxError,
  BADUPDATE: BadUpdateError,
  TOOBIG: TooBigError,
  ABORTED: AbortedError,
  WRONGTYPE: WrongTypeError,
  OOM: OomError,
  NOPERM: NoPermError,
  CROSSSLOT: CrossSlotError,
});

/** An AtomicdocError for the text of an error reply. */
export function toError(text: string): AtomicdocError {
  const m = /^([A-Z][A-Z0-9_]*)(?: (.*))?$/s.exec(text);
  if (!m) return new AtomicdocError('ERR', text);
  const Cls = errorClasses[m[1]] ?? AtomicdocError;
  return new Cls(m[1], m[2] ?? '');
}

/**
 * Maps an error a driver raised: a Redis error reply becomes our class (the driver's
 * error as `.cause`), anything else is returned unchanged.
 */
export function mapDriverError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  // node-redis raises ErrorReply (or a subclass), ioredis a ReplyError subclass.
  let isReply = e.name === 'ReplyError' || e.name === 'ErrorReply';
  for (let p = Object.getPrototypeOf(e); p && !isReply; p = Object.getPrototypeOf(p)) {
    const n = (p as { constructor?: { name?: string } }).constructor?.name;
    isReply = n === 'ErrorReply' || n === 'ReplyError';
  }
  if (!isReply) return e;
  const err = toError(e.message);
  Object.defineProperty(err, 'driverError', { value: e, enumerable: false });
  return err;
}
