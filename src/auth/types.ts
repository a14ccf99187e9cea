import type { Matcher } from 'promql-parser-wasm';

/** Who the caller is and what they may see, derived from their credentials. */
export interface Principal {
  /** For logs and metrics only; never used for decisions. */
  readonly user: string;
  /** ANDed onto every selector the caller sends. */
  readonly matchers: readonly Matcher[];
  /** Sent upstream as X-Scope-OrgID (Cortex/Mimir tenancy). */
  readonly tenantId?: string;
}

export type AuthOutcome =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      /** 429: the credential could not be checked now (too many bcrypt runs waiting); the caller may retry. */
      status: 401 | 403 | 429;
      /** Logged, never sent to the caller: it may say which check failed. */
      reason: string;
      /** A WWW-Authenticate value, sent only when the caller sent no credentials at all. */
      challenge?: string;
    };

/** Reads a request header by lower-case name. */
export type HeaderReader = (name: string) => string | undefined;

export interface Authenticator {
  authenticate(header: HeaderReader): AuthOutcome | Promise<AuthOutcome>;
  close(): Promise<void>;
}
