import { PromQLError, type Position, type PromQLErrorCode } from './errors.js';
import { encodeUtf8Into, maxUtf8Length } from './utf8.js';

/** The exports of promql_parser.wasm (the ABI is described in the package README). */
interface ParserExports {
  readonly memory: WebAssembly.Memory;
  alloc(len: number): number;
  dealloc(ptr: number, len: number): void;
  format(qPtr: number, qLen: number): number;
  parse(qPtr: number, qLen: number): number;
  /** `maxNodes`, `maxCost`: the complexity limits, 0 for none. */
  enforce(qPtr: number, qLen: number, mPtr: number, mLen: number, maxNodes: number, maxCost: number): number;
  /** `federate`: 1 checks the selector as /federate does, 0 as the API endpoints do. */
  enforce_selector(qPtr: number, qLen: number, mPtr: number, mLen: number, federate: number): number;
  result_ptr(): number;
  result_len(): number;
  error_line(): number;
  error_column(): number;
  /** The measures of the last successful enforce (see ComplexityLimits). */
  result_nodes(): number;
  result_cost(): number;
  result_lookback_ms(): number;
}

const EXPORTED_FUNCTIONS = [
  'alloc', 'dealloc', 'format', 'parse', 'enforce', 'enforce_selector',
  'result_ptr', 'result_len', 'error_line', 'error_column', 'result_nodes', 'result_cost', 'result_lookback_ms',
] as const;

export enum Operation {
  Format,
  Parse,
  Enforce,
  EnforceSelector,
  EnforceFederateSelector,
}

/** The parser's input limit, in UTF-8 bytes. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const MIN_BUFFER_BYTES = 64 * 1024;
/** Past this much module memory after a call, the instance is replaced by a fresh one. */
export const MAX_RETAINED_MEMORY_BYTES = 128 * 1024 * 1024;
const STATUS_OK = 0;
/** The code of each status the module returns for a refused query (the ABI in the package README). */
const STATUS_CODES: ReadonlyMap<number, PromQLErrorCode> = new Map([
  [1, 'syntax'],
  [2, 'too_deep'],
  [3, 'too_large'],
  [4, 'too_complex'],
]);

/** Limits on a query's complexity (see the package README); 0 or absent: no limit. */
export interface ComplexityLimits {
  /** Nodes of Prometheus's syntax tree. */
  readonly maxNodes?: number;
  /** The nodes Prometheus's type checks of operators visit, summed over the operators. */
  readonly maxCost?: number;
}

/** What an enforced query costs, as the parser measured it on the enforced tree. */
export interface Measures {
  readonly nodes: number;
  readonly cost: number;
  /** The longest time before the evaluation time a selector reads (Infinity when it depends on step or range). */
  readonly lookbackMs: number;
}

const NO_LIMITS: ComplexityLimits = {};
const NO_MEASURES: Measures = { nodes: 0, cost: 0, lookbackMs: 0 };

/**
 * The parser module behind a recovering wrapper: a wasm trap leaves the instance's memory in an unknown state,
 * so the instance is dropped, the query refused, and the next call gets a fresh instance.
 */
export class Parser {
  private instance: Instance | null;
  private measures: Measures = NO_MEASURES;

  constructor(private readonly module: WebAssembly.Module) {
    this.instance = new Instance(module);
  }

  /** The measures of the last call, when it was a successful Operation.Enforce. */
  lastMeasures(): Measures {
    return this.measures;
  }

  /** The module memory this parser holds on to between calls. */
  retainedMemoryBytes(): number {
    return this.instance?.memoryBytes() ?? 0;
  }

  /**
   * Runs `op` on `query`. `limits` apply to Operation.Enforce only, whose measures `lastMeasures` then gives until
   * the next call.
   */
  run(op: Operation, query: string, matchers: Uint8Array | null, limits: ComplexityLimits = NO_LIMITS): string {
    // Refused before any copy, so that an oversized query cannot grow the module's memory (which never shrinks).
    // A UTF-16 unit takes one to three UTF-8 bytes: only long strings need counting.
    if (query.length > MAX_INPUT_BYTES / 3) {
      const atLeast = query.length > MAX_INPUT_BYTES;
      const bytes = atLeast ? query.length : Buffer.byteLength(query, 'utf8');
      if (bytes > MAX_INPUT_BYTES) {
        const message = `query too large: ${atLeast ? 'at least ' : ''}${bytes} bytes (limit ${MAX_INPUT_BYTES} bytes)`;
        throw new PromQLError(message, undefined, { code: 'too_large' });
      }
    }
    this.measures = NO_MEASURES;
    try {
      this.instance ??= new Instance(this.module);
      const text = this.instance.run(op, query, matchers, limits);
      if (op === Operation.Enforce) this.measures = this.instance.measures();
      return text;
    } catch (error) {
      if (error instanceof PromQLError) throw error;
      this.instance = null;
      const reason = error instanceof Error ? error.message : String(error);
      throw new PromQLError(`internal parser error, query refused: ${reason}`, undefined, { cause: error, code: 'internal' });
    } finally {
      // A module's memory never shrinks: after one huge query (a large regex can take tens of bytes a character),
      // hand the instance to the garbage collector rather than hold that memory for the life of the process.
      if (this.instance !== null && this.instance.memoryBytes() > MAX_RETAINED_MEMORY_BYTES) this.instance = null;
    }
  }
}

/** One instance of the module with its reused input buffer. */
class Instance {
  private readonly exports: ParserExports;
  private inputPtr = 0;
  private inputCap = 0;
  private memoryBuffer: ArrayBuffer | null = null;
  private bytes = new Uint8Array(0);
  private input = new Uint8Array(0);
  private text = Buffer.alloc(0);

  constructor(module: WebAssembly.Module) {
    this.exports = checkExports(new WebAssembly.Instance(module, {}).exports);
    this.grow(MIN_BUFFER_BYTES);
  }

  run(op: Operation, query: string, matchers: Uint8Array | null, limits: ComplexityLimits): string {
    const ex = this.exports;
    const mLen = matchers === null ? 0 : matchers.length;
    let qLen = this.writeQuery(query, mLen);
    if (qLen < 0) {
      this.grow(maxUtf8Length(query) + mLen);
      qLen = this.writeQuery(query, mLen);
    }
    const qPtr = this.inputPtr;
    if (matchers !== null) this.bytes.set(matchers, qPtr + qLen);
    let status: number;
    switch (op) {
      case Operation.Format:
        status = ex.format(qPtr, qLen);
        break;
      case Operation.Parse:
        status = ex.parse(qPtr, qLen);
        break;
      case Operation.Enforce:
        status = ex.enforce(qPtr, qLen, qPtr + qLen, mLen, limits.maxNodes ?? 0, limits.maxCost ?? 0);
        break;
      case Operation.EnforceSelector:
        status = ex.enforce_selector(qPtr, qLen, qPtr + qLen, mLen, 0);
        break;
      case Operation.EnforceFederateSelector:
        status = ex.enforce_selector(qPtr, qLen, qPtr + qLen, mLen, 1);
        break;
    }
    return this.result(status);
  }

  memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** The measures of the last successful enforce. */
  measures(): Measures {
    const ex = this.exports;
    return { nodes: ex.result_nodes(), cost: ex.result_cost(), lookbackMs: ex.result_lookback_ms() };
  }

  /** Encodes the query at the start of the buffer, leaving `reserve` bytes after it; -1 when it does not fit. */
  private writeQuery(query: string, reserve: number): number {
    if (this.inputCap < query.length + reserve) this.grow(query.length + reserve);
    this.refreshViews();
    const qLen = encodeUtf8Into(query, this.input);
    return qLen < 0 || qLen + reserve > this.inputCap ? -1 : qLen;
  }

  private result(status: number): string {
    const ex = this.exports;
    const ptr = ex.result_ptr();
    const len = ex.result_len();
    this.refreshViews();
    if (ptr + len > this.bytes.length) throw new Error(`result [${ptr}, +${len}) outside the module's memory`);
    const text = this.text.toString('utf8', ptr, ptr + len);
    if (status === STATUS_OK) return text;
    const code = STATUS_CODES.get(status);
    // An unknown status is the module's failure: run() refuses the query as internal and drops the instance.
    if (code === undefined) throw new Error(`unknown status ${status}`);
    throw new PromQLError(text, this.errorPosition(), { code });
  }

  private errorPosition(): Position | undefined {
    const line = this.exports.error_line();
    return line > 0 ? { line, column: this.exports.error_column() } : undefined;
  }

  private grow(minBytes: number): void {
    let cap = Math.max(MIN_BUFFER_BYTES, this.inputCap);
    while (cap < minBytes) cap *= 2;
    if (this.inputCap > 0) this.exports.dealloc(this.inputPtr, this.inputCap);
    this.inputCap = 0;
    const ptr = this.exports.alloc(cap);
    if (ptr === 0) throw new Error(`cannot allocate ${cap} bytes`);
    this.inputPtr = ptr;
    this.inputCap = cap;
    this.memoryBuffer = null;
  }

  // Growing the wasm memory detaches every view on the old buffer.
  private refreshViews(): void {
    const buffer = this.exports.memory.buffer;
    if (buffer === this.memoryBuffer) return;
    this.memoryBuffer = buffer;
    this.bytes = new Uint8Array(buffer);
    this.input = this.bytes.subarray(this.inputPtr, this.inputPtr + this.inputCap);
    this.text = Buffer.from(buffer);
  }
}

function checkExports(exports: WebAssembly.Exports): ParserExports {
  const missing = EXPORTED_FUNCTIONS.filter((name) => typeof exports[name] !== 'function');
  if (!(exports['memory'] instanceof WebAssembly.Memory)) missing.unshift('memory' as never);
  if (missing.length > 0) throw new Error(`promql_parser.wasm lacks the exports ${missing.join(', ')}`);
  return exports as unknown as ParserExports;
}
