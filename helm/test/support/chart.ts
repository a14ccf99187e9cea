// The chart rendered by the real Helm: `helm template` of helm/promgate, its documents parsed.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART = fileURLToPath(new URL('../../promgate', import.meta.url));
export const TEST_VALUES = fileURLToPath(new URL('../../test-values/', import.meta.url));
const HELM_SH = fileURLToPath(new URL('../../tools/helm.sh', import.meta.url));

export type Doc = Record<string, any>;

let helm: string | undefined;

/** helm/test.sh's HELM, else what helm/tools/helm.sh finds or unpacks. */
export function helmBinary(): string {
  helm ??= process.env.HELM ?? execFileSync('bash', [HELM_SH], { encoding: 'utf8' }).trim();
  return helm;
}

/** `helm template RELEASE helm/promgate --kube-version 1.32.0 ...args`, as documents. */
export function render(args: readonly string[], release = 'promgate'): Doc[] {
  const out = execFileSync(helmBinary(), ['template', release, CHART, '--kube-version', '1.32.0', ...args], {
    encoding: 'utf8',
    cwd: REPO,
  });
  return parseAllDocuments(out, { version: '1.1' }).map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

/** The one document of a kind (and name, when given). */
export function find(docs: readonly Doc[], kind: string, name?: string): Doc {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata?.name === name));
  if (found.length !== 1) throw new Error(`${found.length} ${kind} documents named ${name ?? 'anything'}`);
  return found[0]!;
}
