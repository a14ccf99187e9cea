import { defaultRegion, startAwsSigner } from '../aws/index.js';
import type { Deps } from '../observability/deps.js';
import { err, ok, type Result } from '../result.js';
import type { RequestSigner } from '../upstream/upstream.js';
import type { GatewayConfig } from './config.js';

/**
 * A SigV4 signer for each component with a `sigv4` block, its credentials fetched now: a component whose
 * credentials cannot be had stops start-up, naming it and the providers tried.
 */
export async function componentSigners(config: GatewayConfig, deps: Deps, env: NodeJS.ProcessEnv = process.env): Promise<Result<Map<string, RequestSigner>, string>> {
  const signers = new Map<string, RequestSigner>();
  for (const component of config.components.values()) {
    const block = component.sigv4;
    if (block === undefined) continue;
    const { region, service, ...credentials } = block;
    const signer = await startAwsSigner({ region: region ?? defaultRegion(env), service, credentials }, component.name, deps);
    if (!signer.ok) return err(`${component.where}: components.${component.name}.sigv4: ${signer.error}`);
    signers.set(component.name, signer.value.sign);
  }
  return ok(signers);
}
