import { Counter, Gauge, type Registry } from 'prom-client';
import { registered } from '../../observability/metrics.js';

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

export function jwtMetrics(registry: Registry): JwtMetrics {
  return {
    authentications: registered(registry, 'promgate_jwt_authentications_total', (registers) => new Counter({
      name: 'promgate_jwt_authentications_total',
      help: 'JWT authentications by outcome (verified, cached, or the reason for refusal).',
      labelNames: ['result'] as const,
      registers,
    })),
    jwksRefreshFailures: registered(registry, 'promgate_jwks_refresh_failures_total', (registers) => new Counter({
      name: 'promgate_jwks_refresh_failures_total',
      help: 'Failed fetches of the remote JWKS; the last good keys stay in use.',
      registers,
    })),
    jwksLastRefreshSuccess: registered(registry, 'promgate_jwks_last_refresh_success_timestamp_seconds', (registers) => new Gauge({
      name: 'promgate_jwks_last_refresh_success_timestamp_seconds',
      help: 'When the remote JWKS was last fetched successfully.',
      registers,
    })),
    jwksKeys: registered(registry, 'promgate_jwks_keys', (registers) => new Gauge({
      name: 'promgate_jwks_keys',
      help: 'Usable keys in the last good remote JWKS.',
      registers,
    })),
  };
}
