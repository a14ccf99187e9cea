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

/**
 * The one refusal enforce makes where parse accepts: info() without a data-label selector, which would read every
 * tenant's info series (there is no selector to carry the tenant's matchers).
 */
export function refusedOnlyUnderEnforcement(error: PromQLError): boolean {
  return /: parse error: info\(\) needs a data-label selector/.test(error.message);
}
