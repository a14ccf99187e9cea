import { err, ok, type Result } from '../result.js';
import { PUSH_PATHS, type ConfigShape, type GatewayConfig } from './config.js';
import { AUTH_GATEWAY_KEYS, readAuthGateway } from './shapes/auth-gateway.js';
import { CORTEX_GATEWAY_KEYS, readCortexGateway } from './shapes/cortex-gateway.js';
import { PROMGATE_KEYS, readPromgate } from './shapes/promgate.js';
import { ConfigError, YamlFile, type YamlValue } from './yaml.js';

const SHAPES: readonly { shape: ConfigShape; keys: readonly string[]; read: (root: YamlValue, file: string) => GatewayConfig }[] = [
  { shape: 'cortex-gateway', keys: CORTEX_GATEWAY_KEYS, read: readCortexGateway },
  { shape: 'auth-gateway', keys: AUTH_GATEWAY_KEYS, read: readAuthGateway },
  { shape: 'promgate', keys: PROMGATE_KEYS, read: readPromgate },
];

/**
 * Reads a gateway configuration file in any of its three shapes, told apart by their top-level keys: the first
 * shape that knows every key the file has. Every refusal names the file, the line and the key.
 */
export function parseGatewayConfig(text: string, file: string): Result<GatewayConfig, string> {
  const parsed = YamlFile.parse(text, file);
  if (!parsed.ok) return parsed;
  const { root } = parsed.value;
  try {
    if (root.isNull) throw root.fail('the file is empty: expected a cortex-gateway, auth-gateway or promgate configuration');
    const keys = root.entries().map(([key]) => key);
    const shape = SHAPES.find((s) => keys.every((key) => s.keys.includes(key)));
    if (shape === undefined) throw mixed(root, keys);
    return ok(checked(shape.read(root, file)));
  } catch (error) {
    if (error instanceof ConfigError) return err(error.message);
    throw error;
  }
}

/** The keys no one shape has together: named against the shape the file is closest to. */
function mixed(root: YamlValue, keys: readonly string[]): ConfigError {
  const closest = [...SHAPES].sort((a, b) => overlap(b.keys, keys) - overlap(a.keys, keys))[0]!;
  const strangers = keys.filter((key) => !closest.keys.includes(key));
  return root.fail(
    `${strangers.join(', ')}: not keys of a ${closest.shape} configuration (${closest.keys.join(', ')}), and no one shape has all of ${keys.join(', ')}`,
  );
}

const overlap = (shape: readonly string[], keys: readonly string[]): number => keys.filter((key) => shape.includes(key)).length;

/** What holds whichever the shape: one route a path, longest first (the longest match wins), and no label-enforced push. */
function checked(config: GatewayConfig): GatewayConfig {
  const seen = new Map<string, string>();
  for (const route of config.routes) {
    const key = `${route.match} ${route.path}`;
    const before = seen.get(key);
    if (before !== undefined) throw new ConfigError(`${route.where}: ${route.path} is routed twice (also at ${before})`);
    seen.set(key, route.where);
    if (route.enforcement !== 'header' && PUSH_PATHS.includes(route.path)) {
      throw new ConfigError(
        `${route.where}: ${route.path} is a remote-write push, which promgate cannot enforce labels on yet: route it with enforcement header (X-Scope-OrgID)`,
      );
    }
  }
  const routes = [...config.routes].sort((a, b) => b.path.length - a.path.length || (a.match === 'exact' ? -1 : 1));
  return { ...config, routes };
}
