// Checks rendered Kubernetes manifests offline, as far as the API server's schemas go, and says what is wrong:
//   node --import tsx helm/tools/validate-manifests.ts [--kube-version 1.32] FILE...
// - each document's model from kubernetes-models (Kubernetes 1.33) or @kubernetes-models/prometheus-operator checks
//   types, required fields, enums and formats; a kind neither has fails, and so does an API that Kubernetes removed by
//   --kube-version (the models keep old versions such as autoscaling/v2beta1);
// - TypeScript checks each document as an object literal of the model's declared interface, which refuses fields the
//   API does not have (`spec.replica`, a mis-indented `matchLabels`): the schemas themselves allow any field;
// - rules the schemas lack: object, container, volume and port names, label keys and values, the same object twice,
//   a volume mount or probe port naming nothing in its pod.
// Prints "N documents valid", or each problem and exits 1.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

const TOOLS = dirname(fileURLToPath(import.meta.url));
// Where a kind's model lives: the module for `apiVersion/Kind`, below each package.
const PACKAGES = ['kubernetes-models', '@kubernetes-models/prometheus-operator'];

// The Kubernetes minor version that removed an API (group/version, or group/version/Kind), from Kubernetes'
// deprecated API migration guide.
const REMOVED_IN: Readonly<Record<string, number>> = {
  'extensions/v1beta1': 16, 'apps/v1beta1': 16, 'apps/v1beta2': 16,
  'extensions/v1beta1/Ingress': 22, 'networking.k8s.io/v1beta1': 22, 'admissionregistration.k8s.io/v1beta1': 22,
  'apiextensions.k8s.io/v1beta1': 22, 'apiregistration.k8s.io/v1beta1': 22, 'authentication.k8s.io/v1beta1': 22,
  'authorization.k8s.io/v1beta1': 22, 'certificates.k8s.io/v1beta1': 22, 'coordination.k8s.io/v1beta1': 22,
  'rbac.authorization.k8s.io/v1beta1': 22, 'scheduling.k8s.io/v1beta1': 22, 'storage.k8s.io/v1beta1/CSIDriver': 22,
  'storage.k8s.io/v1beta1/CSINode': 22, 'storage.k8s.io/v1beta1/StorageClass': 22, 'storage.k8s.io/v1beta1/VolumeAttachment': 22,
  'batch/v1beta1': 25, 'discovery.k8s.io/v1beta1': 25, 'events.k8s.io/v1beta1': 25, 'autoscaling/v2beta1': 25,
  'policy/v1beta1': 25, 'node.k8s.io/v1beta1': 25, 'autoscaling/v2beta2': 26, 'flowcontrol.apiserver.k8s.io/v1beta1': 26,
  'storage.k8s.io/v1beta1/CSIStorageCapacity': 27, 'flowcontrol.apiserver.k8s.io/v1beta2': 29,
  'flowcontrol.apiserver.k8s.io/v1beta3': 32,
};

function removedIn(apiVersion: string, kind: string): number | undefined {
  return REMOVED_IN[`${apiVersion}/${kind}`] ?? REMOVED_IN[apiVersion];
}

interface Manifest {
  readonly where: string;
  readonly doc: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The API server reads a null field as one not set. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObj(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

function readManifests(files: readonly string[]): { manifests: Manifest[]; problems: string[] } {
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  for (const file of files) {
    // YAML 1.1, as Kubernetes' reader takes it (`yes` is a boolean there).
    parseAllDocuments(readFileSync(file, 'utf8'), { version: '1.1', uniqueKeys: true }).forEach((parsed, i) => {
      const where = `${file} document ${i + 1}`;
      if (parsed.errors.length > 0) return void problems.push(`${where}: ${parsed.errors[0]!.message}`);
      const doc = withoutNulls(parsed.toJS());
      if (doc === undefined || doc === null) return;
      if (!isObj(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
        return void problems.push(`${where}: not an object with a string apiVersion and kind`);
      }
      const name = isObj(doc.metadata) ? doc.metadata.name : undefined;
      manifests.push({ where: `${where} (${doc.kind} ${String(name)})`, doc });
    });
  }
  return { manifests, problems };
}

/** The module specifier of a kind's model, or undefined when no package has one. */
function modelModule(apiVersion: string, kind: string): string | undefined {
  for (const pkg of PACKAGES) {
    const specifier = `${pkg}/${apiVersion}/${kind}`;
    try {
      // The packages' exports map `./apps/v1/*` to a file whether or not it exists.
      if (existsSync(fileURLToPath(import.meta.resolve(specifier)))) return specifier;
    } catch {
      // not in this package
    }
  }
  return undefined;
}

async function schemaProblems(m: Manifest, specifier: string): Promise<string[]> {
  const kind = m.doc.kind as string;
  const module = (await import(specifier)) as Record<string, new (data: unknown) => { validate(): void }>;
  try {
    new module[kind]!(m.doc).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (errors === undefined) return [`${m.where}: ${(e as Error).message}`];
    return errors.map((x) => `${m.where}: ${x.instancePath || '/'} ${x.message ?? 'is invalid'}`);
  }
}

/** TypeScript's excess-property check of every document against its interface, in one program. */
function unknownFieldProblems(checked: readonly { m: Manifest; specifier: string }[]): string[] {
  const file = join(TOOLS, 'manifests.check.ts');
  const lines: string[] = [];
  const starts: { line: number; m: Manifest }[] = [];
  checked.forEach(({ m, specifier }, i) => {
    lines.push(`import type { I${m.doc.kind as string} as T${i} } from ${JSON.stringify(specifier)};`);
  });
  checked.forEach(({ m }, i) => {
    starts.push({ line: lines.length, m });
    lines.push(...`export const d${i}: T${i} = ${JSON.stringify(m.doc, null, 1)};`.split('\n'));
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== file || d.start === undefined) return `${d.file?.fileName ?? 'typescript'}: ${message}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const owner = [...starts].reverse().find((s) => s.line <= line);
    return `${owner?.m.where ?? 'imports'}: ${message}`;
  });
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

const dnsLabel = (s: string) => s.length <= 63 && DNS_LABEL.test(s);
const subdomain = (s: string) => s.length <= 253 && SUBDOMAIN.test(s);
const portName = (s: string) => s.length <= 15 && IANA_SVC_NAME.test(s) && /[a-z]/.test(s) && !s.includes('--');

function labelProblems(where: string, labels: unknown): string[] {
  if (!isObj(labels)) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    const name = key.slice(slash + 1);
    if ((prefix !== undefined && !subdomain(prefix)) || name.length > 63 || !LABEL_NAME.test(name)) out.push(`${where}: label key ${JSON.stringify(key)} is not valid`);
    if (typeof value === 'string' && value !== '' && (value.length > 63 || !LABEL_NAME.test(value))) out.push(`${where}: label ${key}'s value ${JSON.stringify(value)} is not valid`);
  }
  return out;
}

/** The pod spec a workload's template holds, if the document has one. */
function podSpecOf(doc: Obj): Obj | undefined {
  const spec = isObj(doc.spec) ? doc.spec : undefined;
  const template = spec !== undefined && isObj(spec.template) ? spec.template : undefined;
  return template !== undefined && isObj(template.spec) ? template.spec : undefined;
}

function podProblems(where: string, pod: Obj): string[] {
  const out: string[] = [];
  const volumes = new Set((Array.isArray(pod.volumes) ? pod.volumes : []).filter(isObj).map((v) => String(v.name)));
  for (const v of volumes) if (!dnsLabel(v)) out.push(`${where}: volume name ${JSON.stringify(v)} is not a DNS-1123 label`);
  for (const c of [...(Array.isArray(pod.initContainers) ? pod.initContainers : []), ...(Array.isArray(pod.containers) ? pod.containers : [])].filter(isObj)) {
    const cname = String(c.name);
    if (!dnsLabel(cname)) out.push(`${where}: container name ${JSON.stringify(cname)} is not a DNS-1123 label`);
    const ports = new Set<string>();
    for (const p of (Array.isArray(c.ports) ? c.ports : []).filter(isObj)) {
      if (p.name === undefined) continue;
      if (!portName(String(p.name))) out.push(`${where}: container ${cname}'s port name ${JSON.stringify(p.name)} is not an IANA service name of 15 characters at most`);
      ports.add(String(p.name));
    }
    for (const mount of (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).filter(isObj)) {
      if (!volumes.has(String(mount.name))) out.push(`${where}: container ${cname} mounts volume ${JSON.stringify(mount.name)}, which the pod does not have`);
    }
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const p = c[probe];
      const action = isObj(p) ? (isObj(p.httpGet) ? p.httpGet : isObj(p.tcpSocket) ? p.tcpSocket : undefined) : undefined;
      if (action !== undefined && typeof action.port === 'string' && !ports.has(action.port)) {
        out.push(`${where}: container ${cname}'s ${probe} names port ${JSON.stringify(action.port)}, which it does not have`);
      }
    }
  }
  return out;
}

function apiServerProblems(manifests: readonly Manifest[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const { where, doc } of manifests) {
    const meta = isObj(doc.metadata) ? doc.metadata : {};
    const name = typeof meta.name === 'string' ? meta.name : '';
    const nameOk = doc.kind === 'Service' ? name.length <= 63 && DNS_1035.test(name) : subdomain(name);
    if (!nameOk) out.push(`${where}: metadata.name ${JSON.stringify(name)} is not a valid ${doc.kind === 'Service' ? 'DNS-1035 label' : 'DNS-1123 subdomain'}`);
    if (typeof meta.namespace === 'string' && !dnsLabel(meta.namespace)) out.push(`${where}: metadata.namespace ${JSON.stringify(meta.namespace)} is not a DNS-1123 label`);
    const id = `${String(doc.apiVersion).split('/').slice(0, -1).join('/')}/${String(doc.kind)}/${String(meta.namespace ?? '')}/${name}`;
    if (seen.has(id)) out.push(`${where}: the same object is defined twice`);
    seen.add(id);
    out.push(...labelProblems(where, meta.labels));
    const pod = podSpecOf(doc);
    if (pod !== undefined) {
      const template = (doc.spec as Obj).template as Obj;
      out.push(...labelProblems(`${where} pod template`, isObj(template.metadata) ? template.metadata.labels : undefined), ...podProblems(where, pod));
    }
    if (doc.kind === 'Service' && isObj(doc.spec) && Array.isArray(doc.spec.ports)) {
      for (const p of doc.spec.ports.filter(isObj)) {
        if (p.name !== undefined && !(String(p.name).length <= 15 && DNS_LABEL.test(String(p.name)))) out.push(`${where}: port name ${JSON.stringify(p.name)} is not valid`);
      }
    }
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  const flag = argv.indexOf('--kube-version');
  const minor = flag < 0 ? 32 : Number(/^v?1\.(\d+)/.exec(argv[flag + 1] ?? '')?.[1]);
  const files = flag < 0 ? argv : argv.filter((_, i) => i !== flag && i !== flag + 1);
  if (files.length === 0 || !Number.isInteger(minor)) {
    console.error('usage: validate-manifests.ts [--kube-version 1.32] FILE...');
    return 2;
  }
  const { manifests, problems } = readManifests(files);
  const checked: { m: Manifest; specifier: string }[] = [];
  for (const m of manifests) {
    const removed = removedIn(m.doc.apiVersion as string, m.doc.kind as string);
    if (removed !== undefined && removed <= minor) {
      problems.push(`${m.where}: ${m.doc.apiVersion as string} ${m.doc.kind as string} was removed in Kubernetes 1.${removed}`);
      continue;
    }
    const specifier = modelModule(m.doc.apiVersion as string, m.doc.kind as string);
    if (specifier === undefined) {
      problems.push(`${m.where}: no schema for kind ${JSON.stringify(m.doc.kind)} in apiVersion ${JSON.stringify(m.doc.apiVersion)} (a removed or unknown API)`);
      continue;
    }
    problems.push(...(await schemaProblems(m, specifier)));
    checked.push({ m, specifier });
  }
  problems.push(...unknownFieldProblems(checked), ...apiServerProblems(manifests));
  const distinct = [...new Set(problems)];
  for (const p of distinct) console.log(p);
  console.log(distinct.length === 0 ? `${manifests.length} documents valid` : `${distinct.length} problems in ${manifests.length} documents`);
  return distinct.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
