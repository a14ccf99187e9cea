import type { Deps } from '../observability/deps.js';
import { ok, type Result } from '../result.js';
import { watchTlsFiles } from './files.js';
import { listenerContext, secureListener, type SecureListener } from './listener.js';
import type { ServerTlsSettings } from './server-settings.js';

/** A secure listener whose certificate, key and client CA files are watched; `close` stops watching them. */
export interface ServedTls extends SecureListener {
  close(): Promise<void>;
}

/** Loads a listener's certificate files (they must load to start) and watches them for rotation. */
export async function serveTls(settings: ServerTlsSettings, intervalMinutes: number, deps: Deps): Promise<Result<ServedTls, string>> {
  const files = {
    cert: settings.certFile,
    key: settings.keyFile,
    ...(settings.clientCaFile !== undefined && { ca: settings.clientCaFile }),
  };
  const material = await watchTlsFiles(files, { what: 'TLS listener', intervalMinutes, context: listenerContext(settings) }, deps);
  if (!material.ok) return material;
  deps.logger.info(
    { clientAuth: settings.clientAuth, minVersion: settings.minVersion, maxVersion: settings.maxVersion, cert: settings.certFile },
    'TLS listener: serving HTTPS',
  );
  return ok({ ...secureListener(settings, material.value, deps.logger), close: () => material.value.close() });
}
