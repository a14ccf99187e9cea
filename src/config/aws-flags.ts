import { Option, type Command } from 'commander';
import { defaultRegion, type AwsSigning } from '../aws/index.js';
import { err, ok, type Result } from '../result.js';
import { bool, env } from './flag-values.js';

export interface AwsRunOptions {
  /** Undefined: upstream requests are not signed. */
  aws?: AwsSigning;
}

/** k8spin's flag: sign every upstream request with AWS SigV4 (Amazon Managed Service for Prometheus). New each call: a command owns its options. */
export function awsOptions(): Option[] {
  return [
    new Option('--aws [bool]', 'sign upstream requests with AWS SigV4 (region: AWS_REGION, service: AWS_SERVICE_NAME, default aps)')
      .env(env('USE_AWS'))
      .preset(true)
      .default(false)
      .argParser(bool),
  ];
}

/**
 * `--aws` as k8spin reads it: the region from AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1; the service
 * from AWS_SERVICE_NAME, else aps; credentials from the SDK's default chain. An endpoint URL with credentials of its
 * own is refused beside it: both would be the request's Authorization.
 */
export function toAwsRunOptions(command: Command, endpoint: URL, environment: NodeJS.ProcessEnv = process.env): Result<AwsRunOptions, string> {
  if (command.opts<{ aws: boolean }>().aws !== true) return ok({});
  if (endpoint.username !== '' || endpoint.password !== '') return err('--aws signs every request: --prometheus-endpoint must not carry credentials of its own');
  return ok({ aws: { region: defaultRegion(environment), service: environment.AWS_SERVICE_NAME || 'aps', credentials: {} } });
}
