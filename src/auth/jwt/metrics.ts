import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a token was refused (or that it was not): a small fixed set, so the label stays bounded. */
export type AuthResult =
  | 'verified'
  | 'cached'
  | 'missing'
  | 'too_large'
  | 'malformed'
  | 'unknown_kid'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_claims'
  | 'no_grant';

export interface JwtMetrics {
  readonly authentications: Counter<'result'>;
  readonly jwksRefreshFailures: Counter;
  readonly jwksLastRefreshSuccess: Gauge;
  readonly jwksKeys: Gauge;
}

// Several authenticators may share one registry (tests, a restart in-process): reuse what is registered.
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function jwtMetrics(registry: Registry): JwtMetrics {
  const registers = [registry];
  return {
    authentications: once(registry, 'promgate_jwt_authentications_total', () => new Counter({
      name: 'promgate_jwt_authentications_total',
      help: 'JWT authentications by outcome (verified, cached, or the reason for refusal).',
      labelNames: ['result'] as const,
      registers,
    })),
    jwksRefreshFailures: once(registry, 'promgate_jwks_refresh_failures_total', () => new Counter({
      name: 'promgate_jwks_refresh_failures_total',
      help: 'Failed fetches of the remote JWKS; the last good keys stay in use.',
      registers,
    })),
    jwksLastRefreshSuccess: once(registry, 'promgate_jwks_last_refresh_success_timestamp_seconds', () => new Gauge({
      name: 'promgate_jwks_last_refresh_success_timestamp_seconds',
      help: 'When the remote JWKS was last fetched successfully.',
      registers,
    })),
    jwksKeys: once(registry, 'promgate_jwks_keys', () => new Gauge({
      name: 'promgate_jwks_keys',
      help: 'Usable keys in the last good remote JWKS.',
      registers,
    })),
  };
}
