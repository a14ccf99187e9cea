/** 1-based position of a PromQL error in the query (column counts bytes, as Prometheus does). */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * What kind of refusal a PromQLError is:
 * - `syntax`: every ordinary refusal (lexing, parsing, type checks, invalid matchers, bad regular expressions);
 * - `too_deep`: nesting past the parser's depth limit ("query too deeply nested");
 * - `too_large`: a query or selector over the input limit, or whose enforced text would be over the output limit;
 * - `too_complex`: a query over a complexity limit given to `enforceQuery` (its nodes, or its type-check cost);
 * - `internal`: a WebAssembly trap or another failure inside the parser, not the query's fault.
 */
export type PromQLErrorCode = 'syntax' | 'too_deep' | 'too_large' | 'too_complex' | 'internal';

export interface PromQLErrorOptions extends ErrorOptions {
  /** 'syntax' when not given. */
  readonly code?: PromQLErrorCode;
}

/** A query the parser refuses: syntax, semantic or type error, too deep, too large, too complex, or invalid matchers. */
export class PromQLError extends Error {
  declare readonly position?: Position;
  readonly code: PromQLErrorCode;

  constructor(message: string, position?: Position, options?: PromQLErrorOptions) {
    super(message, options);
    this.name = 'PromQLError';
    this.code = options?.code ?? 'syntax';
    if (position !== undefined) this.position = position;
  }
}
