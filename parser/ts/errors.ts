/** 1-based position of a PromQL error in the query (column counts bytes, as Prometheus does). */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A query the parser refuses: syntax, semantic or type error, too deep, too large, or invalid matchers. */
export class PromQLError extends Error {
  declare readonly position?: Position;

  constructor(message: string, position?: Position, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PromQLError';
    if (position !== undefined) this.position = position;
  }
}
