import { dirname, isAbsolute, resolve } from 'node:path';
import type { ServerTlsSettings } from '../../tls/server-settings.js';
import { CLIENT_TLS_KEYS, readClientTls, readServerTls, SERVER_TLS_KEYS, type SettingsBlock } from '../../tls/settings-block.js';
import type { ClientTlsSettings } from '../../tls/upstream.js';
import type { YamlValue } from '../yaml.js';

/** A listener's `tls` block: Prometheus's tls_server_config, its files relative to the gateway file. */
export function serverTls(value: YamlValue, file: string): ServerTlsSettings | undefined {
  return readServerTls(settingsBlock(value, SERVER_TLS_KEYS, file));
}

/** A component's `tls_config` block: Prometheus's tls_config, its files relative to the gateway file. */
export function componentTls(value: YamlValue, file: string): ClientTlsSettings {
  return readClientTls(settingsBlock(value, CLIENT_TLS_KEYS, file));
}

/** A gateway file's mapping as the TLS readers read it: its refusals name the file, the line and the key path. */
function settingsBlock(value: YamlValue, keys: readonly string[], file: string): SettingsBlock {
  const fields = value.fields(keys);
  const string = (key: string): string | undefined => {
    const text = fields.get(key)?.string();
    return text === '' ? undefined : text;
  };
  return {
    name: (key) => `${value.path}.${key}`,
    string,
    strings: (key) => fields.get(key)?.items().map((item) => item.nonEmptyString()),
    bool: (key) => fields.get(key)?.bool(),
    path: (key) => {
      const name = string(key);
      return name === undefined || isAbsolute(name) ? name : resolve(dirname(file), name);
    },
    fail: (key, message) => {
      const at = key === undefined ? undefined : fields.get(key);
      // A key that is not there is named in the block's message, as `required` names it.
      throw key === undefined ? value.fail(message) : at === undefined ? value.fail(`${key} ${message}`) : at.fail(message);
    },
  };
}
