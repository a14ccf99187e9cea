import { Counter, Gauge } from 'prom-client';
import type { Deps } from '../observability/deps.js';
import { registered } from '../observability/metrics.js';
import { err, ok, type Result } from '../result.js';
import type { RequestSigner } from '../upstream/upstream.js';
import { cachedCredentials } from './credential-cache.js';
import { credentialProvider, type AwsCredentialSource } from './credentials.js';
import { sigV4Signer, type SigningScope } from './sigv4.js';

/** How one upstream's requests are signed: `--aws` in k8spin mode, a component's `sigv4` block in gateway mode. */
export interface AwsSigning extends SigningScope {
  readonly credentials: AwsCredentialSource;
}

export interface AwsSigner {
  readonly sign: RequestSigner;
  close(): void;
}

/** k8spin's defaults: the region from AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
export function defaultRegion(env: NodeJS.ProcessEnv): string {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
}

/**
 * A SigV4 signer whose credentials are fetched now, then cached and refreshed before they expire. `name` tells
 * whose credentials they are in the logs and metrics (`--aws`, or a component's name). No credentials at
 * start-up is an error naming each provider tried and what it said.
 */
export async function startAwsSigner(signing: AwsSigning, name: string, deps: Deps): Promise<Result<AwsSigner, string>> {
  const logger = deps.logger.child({ credentials: name });
  const failures = registered(deps.registry, 'promgate_aws_credential_refresh_failures_total', (registers) => new Counter({
    name: 'promgate_aws_credential_refresh_failures_total',
    help: 'Fetches of AWS credentials that failed, the first at start-up included.',
    labelNames: ['credentials'] as const,
    registers,
  }));
  const expiry = registered(deps.registry, 'promgate_aws_credentials_expiry_timestamp_seconds', (registers) => new Gauge({
    name: 'promgate_aws_credentials_expiry_timestamp_seconds',
    help: 'When the AWS credentials in use expire (absent for keys that do not).',
    labelNames: ['credentials'] as const,
    registers,
  }));
  failures.inc({ credentials: name }, 0);
  let started = false;
  const cache = cachedCredentials(credentialProvider(signing.credentials, signing.region, logger), {
    refreshed(credentials, after) {
      if (credentials.expiration === undefined) expiry.remove({ credentials: name });
      else expiry.set({ credentials: name }, credentials.expiration.getTime() / 1000);
      const expires = credentials.expiration?.toISOString() ?? 'never';
      if (after !== undefined) logger.info({ expires }, 'AWS credentials refreshed again after failures');
      else logger.debug({ expires }, 'AWS credentials refreshed');
    },
    failed(error, kept) {
      failures.inc({ credentials: name });
      // The first fetch's failure is start-up's own error.
      if (!started) return;
      const until = kept?.expiration?.toISOString();
      logger.warn(
        { reason: error.message, ...(until !== undefined && { keptUntil: until }) },
        kept === undefined
          ? `AWS credentials could not be refreshed, and none are valid: signed requests get 502 until a refresh succeeds`
          : `AWS credentials could not be refreshed: the last good ones stay in use until ${until ?? 'they expire'}`,
      );
    },
  });
  try {
    const first = await cache.start();
    started = true;
    logger.info(
      { region: signing.region, service: signing.service, expires: first.expiration?.toISOString() ?? 'never', ...(signing.credentials.roleArn !== undefined && { roleArn: signing.credentials.roleArn }) },
      `${name}: requests signed with AWS SigV4 for ${signing.service} in ${signing.region}`,
    );
  } catch (error) {
    cache.close();
    return err(`no AWS credentials: ${error instanceof Error ? error.message : String(error)}`);
  }
  return ok({ sign: sigV4Signer(signing, () => cache.get()), close: () => cache.close() });
}
