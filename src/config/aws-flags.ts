import { Option, type Command } from 'commander';
import { defaultRegion, type AwsSigning } from '../aws/index.js';
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
 * from AWS_SERVICE_NAME, else aps; credentials from the SDK's default chain.
 */
export function toAwsRunOptions(command: Command, environment: NodeJS.ProcessEnv = process.env): AwsRunOptions {
  if (command.opts<{ aws: boolean }>().aws !== true) return {};
  return { aws: { region: defaultRegion(environment), service: environment.AWS_SERVICE_NAME || 'aps', credentials: {} } };
}
