import type { SigV4Config } from '../config.js';
import type { YamlValue } from '../yaml.js';

/** Prometheus's names for a sigv4 block, and `service` (aps unless told). */
export const SIGV4_KEYS = ['region', 'access_key', 'secret_key', 'profile', 'role_arn', 'service'] as const;

/**
 * A component's `sigv4` block, read as Prometheus reads its own: static keys come in pairs, and signing replaces
 * whatever credentials the URL carries (both would be an Authorization header).
 */
export function readSigV4(value: YamlValue, url: URL): SigV4Config {
  const fields = value.fields(SIGV4_KEYS);
  const text = (key: (typeof SIGV4_KEYS)[number]): string | undefined => fields.get(key)?.nonEmptyString();
  const [accessKey, secretKey] = [text('access_key'), text('secret_key')];
  if ((accessKey === undefined) !== (secretKey === undefined)) throw value.fail('access_key and secret_key go together: give both, or neither for the default credential chain');
  if (url.username !== '' || url.password !== '') throw value.fail("cannot sign requests whose URL carries credentials: both would be the request's Authorization");
  const region = text('region');
  const profile = text('profile');
  const roleArn = text('role_arn');
  return {
    service: text('service') ?? 'aps',
    ...(region !== undefined && { region }),
    ...(accessKey !== undefined && { accessKey, secretKey: secretKey! }),
    ...(profile !== undefined && { profile }),
    ...(roleArn !== undefined && { roleArn }),
  };
}
