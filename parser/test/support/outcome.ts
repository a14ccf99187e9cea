import { PromQLError } from '../../ts/index.js';

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PromQLError };

/** Runs a parser call; a PromQLError is an outcome, any other exception fails the test. */
export function attempt<T>(call: () => T): Outcome<T> {
  try {
    return { ok: true, value: call() };
  } catch (error) {
    if (error instanceof PromQLError) return { ok: false, error };
    throw error;
  }
}
