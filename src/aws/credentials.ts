import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { Logger } from 'pino';

/** Credentials to sign with, as every AWS credential provider gives them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Unset: they do not expire (static keys). */
  readonly expiration?: Date;
}

/** Where credentials come from: Prometheus's sigv4 names. Nothing given: the SDK's default chain. */
export interface AwsCredentialSource {
  /** Static keys, both or neither. */
  readonly accessKey?: string;
  readonly secretKey?: string;
  /** A profile of the shared config and credentials files (then the chain skips the environment's keys). */
  readonly profile?: string;
  /** A role assumed through STS with the credentials above (or the chain's). */
  readonly roleArn?: string;
}

/** Fetches credentials; `forceRefresh` asks past the SDK's own cache. */
export type CredentialFetch = (options: { forceRefresh: boolean }) => Promise<AwsCredentials>;

// The default chain's providers, by the names its debug lines give them, as an operator knows them.
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  fromEnv: 'environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
  fromSSO: 'SSO',
  fromIni: 'shared config and credentials files (AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)',
  fromProcess: 'credential_process',
  fromTokenFile: 'web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN: IRSA)',
  remoteProvider: 'container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI: ECS, EKS Pod Identity), else instance metadata (IMDSv2)',
};
const PROVIDER_LINE = /defaultProvider::(\w+)/;
const REASON_LINE = /@smithy\/property-provider (?:->|\(!\)) (.*)/;
const NO_PROVIDER = 'Could not load credentials from any providers';
// Prometheus's session name is a timestamp; this one says who assumed the role.
const ROLE_SESSION_NAME = 'promgate';

/**
 * The SDK's providers for a source: static keys, or the default chain (environment, SSO, shared files with their
 * profiles, credential_process, web identity token, container credentials, IMDSv2), with a role assumed on top
 * when `roleArn` is given. A failed fetch says what each provider tried said (from the SDK's debug lines, kept
 * for that and not logged): the chain's own error only says that none gave credentials.
 */
export function credentialProvider(source: AwsCredentialSource, region: string, logger: Logger): CredentialFetch {
  let lines: string[] = [];
  const sdkLogger = {
    debug: (...parts: unknown[]) => void lines.push(parts.map(String).join(' ')),
    info: () => undefined,
    warn: (...parts: unknown[]) => logger.warn(parts.map(String).join(' ')),
    error: (...parts: unknown[]) => logger.error(parts.map(String).join(' ')),
  };
  const { accessKey, secretKey, profile, roleArn } = source;
  const base: CredentialFetch =
    accessKey !== undefined && secretKey !== undefined
      ? () => Promise.resolve({ accessKeyId: accessKey, secretAccessKey: secretKey })
      : fromNodeProviderChain({ logger: sdkLogger, ...(profile !== undefined && { profile }) });
  const assumed =
    roleArn === undefined
      ? undefined
      : fromTemporaryCredentials({
          params: { RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME },
          // The base credentials stay fresh by themselves: the SDK's chain refreshes what it caches.
          masterCredentials: () => base({ forceRefresh: false }),
          clientConfig: { region },
          logger: sdkLogger,
        });
  // Each call assumes the role anew: the caller caches what it gets.
  const fetch: CredentialFetch = assumed === undefined ? base : () => assumed();
  return (options) => {
    lines = [];
    return fetch(options).catch((e: unknown) => {
      const tried = describeTried(lines);
      throw new Error(`${e instanceof Error ? e.message : String(e)}${tried.length === 0 ? '' : `; tried ${tried.join('; ')}`}`);
    });
  };
}

/**
 * Each provider's name with what it said, from the SDK's debug lines. Some (the container endpoint's) fail
 * without a line of their own: they are named as having given none.
 */
function describeTried(lines: readonly string[]): string[] {
  const said: string[] = [];
  let provider: string | undefined;
  const silent = () => provider !== undefined && said.push(`${provider}: gave no credentials`);
  for (const line of lines) {
    const named = PROVIDER_LINE.exec(line)?.[1];
    if (named !== undefined) {
      silent();
      provider = PROVIDER_NAMES[named] ?? named;
      continue;
    }
    const reason = REASON_LINE.exec(line)?.[1];
    if (reason === undefined || reason === NO_PROVIDER) continue;
    said.push(provider === undefined ? reason : `${provider}: ${reason}`);
    provider = undefined;
  }
  silent();
  return said;
}
