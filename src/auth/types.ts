import type { PeerCertificate } from 'node:tls';
import type { Matcher } from 'promql-parser-wasm';
import type { LimitsOverrides } from '../limits/limits.js';

/** What a credential grants: namespaces, label values (one or several per label), and a Cortex tenant id. */
export interface Grant {
  readonly namespaces: readonly string[];
  readonly labels: Readonly<Record<string, readonly string[]>>;
  /** Sent upstream as X-Scope-OrgID (Cortex/Mimir tenancy); `a|b` when promgate grants several (see tenant.ts). */
  readonly tenantId?: string;
  /** auth-gateway's passthrough tenant: the client's own X-Scope-OrgID is sent, checked (see `passedThrough`). */
  readonly passthrough?: true;
}

/** Who the caller is and what they may see, derived from their credentials. */
export interface Principal {
  /** For logs only; never used for decisions. */
  readonly user: string;
  /**
   * The `user` label of the request metrics: a value from a bounded set (a users-file name, a tenant id, or a
   * fixed word), never straight from a token, so that the metrics' cardinality cannot grow with each token.
   */
  readonly metricsUser: string;
  /** What the credential grants, as read from it. */
  readonly grant: Grant;
  /** The grant as matchers: ANDed onto every selector the caller sends. */
  readonly matchers: readonly Matcher[];
  /**
   * The matchers in canonical text (`{namespace="a",team=~"x|y"}`; '' for none). Equal grants have equal keys,
   * whichever credential carried them: caches of what enforcement gave are shared by key, never per credential.
   */
  readonly key: string;
  /**
   * Whom the tenant limits count this caller as: a users-file name, else the tenant id, else the grant's key (JWTs
   * granting the same thing share their limits).
   */
  readonly tenant: string;
  /** The tenant's own limits (a `limits:` block), over the flags' defaults. */
  readonly limits?: LimitsOverrides;
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
      /** The request carries no credential of this authenticator's kind: in a chain, the next one may decide. */
      absent?: true;
    };

/** What an authenticator may look at: never the body, which is read only once the caller is known. */
export interface RequestView {
  /** A request header by lower-case name; undefined when absent or repeated. */
  header(name: string): string | undefined;
  /** The TLS peer's certificate when the connection is TLS and the client sent one. */
  readonly peerCertificate: PeerCertificate | undefined;
  /** Whether the handshake verified that certificate against the listener's client CAs. */
  readonly peerCertificateVerified: boolean;
  readonly remoteAddress: string | undefined;
}

export interface Authenticator {
  authenticate(request: RequestView): AuthOutcome | Promise<AuthOutcome>;
  close(): Promise<void>;
}
