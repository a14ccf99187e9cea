import { InvalidArgumentError } from 'commander';
import { AUTH_TYPES, type AuthType } from '../auth/index.js';
import { VERIFYING_CLIENT_AUTH } from '../tls/go-names.js';
import type { ServerTlsSettings } from '../tls/server-settings.js';

/** `--auth-type basic`, or a chain such as `mtls,basic`: the first that recognises a request decides. */
export function authTypeList(value: string): AuthType[] {
  const types = value.split(',').map((s) => s.trim());
  for (const type of types) {
    if (!(AUTH_TYPES as readonly string[]).includes(type)) {
      throw new InvalidArgumentError(`must be one of ${AUTH_TYPES.join(', ')}, or several of them separated by commas (mtls,basic).`);
    }
  }
  if (new Set(types).size !== types.length) throw new InvalidArgumentError('names an authentication type twice.');
  return types as AuthType[];
}

/**
 * Why client certificates cannot name users on this listener, or undefined when they can: only where the
 * handshake verified them against promgate's own client CAs.
 */
export function mtlsListenerProblem(settings: ServerTlsSettings | undefined): string | undefined {
  if (settings === undefined) return '--auth-type mtls needs a TLS listener (--tls-cert-file and --tls-key-file, or --web.config.file)';
  if (!VERIFYING_CLIENT_AUTH.has(settings.clientAuth)) {
    return `--auth-type mtls needs client certificates verified in the handshake: client auth VerifyClientCertIfGiven or RequireAndVerifyClientCert, not ${settings.clientAuth}`;
  }
  return undefined;
}
