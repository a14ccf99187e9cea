import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { isLabelName } from '../labels.js';
import { readLimits, type LimitsOverrides } from '../limits/limits.js';
import { parseStoredPassword, type StoredPassword } from './password.js';
import { err, ok, type Result } from '../result.js';
import { isTenantId, TENANT_ID_RULE } from '../tenant.js';

/**
 * One entry of the users file. A username may have several entries, told apart by their passwords; an entry
 * without a password is for client certificates only (`--auth-type mtls`).
 */
export interface UserEntry {
  readonly username: string;
  readonly password?: StoredPassword;
  /** `namespace` then `namespaces`, as written. */
  readonly namespaces: readonly string[];
  /** Each label's allowed values; a single string in the file becomes a list of one. */
  readonly labels: Readonly<Record<string, readonly string[]>>;
  /** The tenants sent as X-Scope-OrgID (the `tenant` field, or a gateway file's tenant ids). */
  readonly tenantIds?: readonly string[];
  /** A gateway file's passthrough tenant: the client's own X-Scope-OrgID is sent. */
  readonly passthrough?: boolean;
  /** promgate's optional `limits:` block: this user's tenant limits, over the flags' defaults. */
  readonly limits?: LimitsOverrides;
  /** Where the entry starts, e.g. `authn.yaml:7 users[2]`, for log lines about it. */
  readonly where: string;
}

export interface UsersFile {
  readonly users: readonly UserEntry[];
  /** Things that loaded but are probably mistakes (unknown fields, no users); for the log. */
  readonly warnings: readonly string[];
}

// Expanding aliases is how "billion laughs" files blow up. yaml counts uses of an anchor weighted by the aliases
// inside it; this bound leaves room for hundreds of users sharing a `<<: *base` and none for exponential nesting.
const MAX_ALIAS_COUNT = 10_000;
const USER_FIELDS = new Set(['username', 'password', 'namespace', 'namespaces', 'labels', 'tenant', 'limits']);

/**
 * Parses k8spin's users file: `users: [{username, password, namespace, namespaces, labels}]`, and promgate's
 * optional `tenant` (sent as X-Scope-OrgID under `--enforce header` or `both`) and `limits` (see limits/limits.ts).
 * Like k8spin (Go's YAML decoder), unknown fields are ignored and unquoted numbers or booleans are taken as
 * written (`password: 0123` is "0123"). Stricter than k8spin where leniency would widen access or let anyone
 * in: a user needs a username, and no value may be empty (a password left out makes a certificate-only entry, which
 * no password can log in as). A schema error reads
 * `authn.yaml:7: users[2].labels.team: must be a string or a list of strings`.
 */
export function parseUsersFile(text: string, file: string): Result<UsersFile, string> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more YAML errors)` : '';
    return err(`${file}:${lineCounter.linePos(syntaxError.pos[0]).line}: ${syntaxError.message}${more}`);
  }
  let users: UsersFile;
  try {
    users = new UsersFileReader(doc, lineCounter, file).read();
  } catch (error) {
    if (error instanceof SchemaError) return err(error.message);
    throw error;
  }
  // The reader expands only what it needs, once; this catches alias bombs anywhere, ignored fields included.
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return err(error instanceof ReferenceError ? `${file}: refused: its YAML aliases expand too much (${message})` : `${file}: ${message}`);
  }
  return ok(users);
}

class SchemaError extends Error {}

interface Entry {
  readonly key: Node;
  readonly value: Node | null;
}

class UsersFileReader {
  private readonly warnings: Array<{ line: number; text: string }> = [];
  private readonly entriesOf = new Map<Node, Map<string, Entry>>();

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  read(): UsersFile {
    const root = this.resolve(this.doc.contents);
    if (root === null) throw this.fail(null, '', 'the file is empty; expected a mapping with a "users" list');
    if (!isMap(root)) throw this.fail(root, '', 'expected a mapping with a "users" list');
    const fields = this.entries(root, '');
    for (const [name, entry] of fields) {
      if (name !== 'users') this.warn(entry.key, name, 'unknown field, ignored');
    }
    const usersNode = this.resolve(fields.get('users')?.value ?? null);
    if (isNull(usersNode)) {
      this.warn(root, 'users', 'no users: nobody can log in');
      return { users: [], warnings: this.sortedWarnings() };
    }
    if (!isSeq(usersNode)) throw this.fail(usersNode, 'users', 'must be a list of users');
    const users = usersNode.items.map((item, index) => this.readUser(this.resolve(item as Node), `users[${index}]`, usersNode));
    if (users.length === 0) this.warn(usersNode, 'users', 'no users: nobody can log in');
    return { users, warnings: this.sortedWarnings() };
  }

  private sortedWarnings(): string[] {
    return [...this.warnings].sort((a, b) => a.line - b.line).map((w) => w.text);
  }

  private readUser(node: Node | null, path: string, parent: Node): UserEntry {
    if (!isMap(node)) throw this.fail(node ?? parent, path, 'must be a mapping with a username and a password');
    const fields = this.entries(node, path);
    for (const [name, entry] of fields) {
      if (!USER_FIELDS.has(name)) this.warn(entry.key, `${path}.${name}`, 'unknown field, ignored');
    }
    const username = this.requiredString(fields, 'username', node, path);
    const password = fields.has('password') ? parseStoredPassword(this.requiredString(fields, 'password', node, path)) : undefined;
    if (password?.ok === false) throw this.fail(fields.get('password')!.value, `${path}.password`, password.error);
    const namespace = this.optionalString(fields.get('namespace'), `${path}.namespace`);
    const namespaces = this.stringList(fields.get('namespaces'), `${path}.namespaces`) ?? [];
    const tenant = this.optionalString(fields.get('tenant'), `${path}.tenant`);
    if (tenant !== undefined && !isTenantId(tenant)) {
      throw this.fail(fields.get('tenant')!.value, `${path}.tenant`, `${JSON.stringify(tenant)} is not a tenant id Cortex accepts: ${TENANT_ID_RULE}`);
    }
    const limits = this.limits(fields.get('limits'), `${path}.limits`);
    return {
      username,
      ...(password?.ok === true && { password: password.value }),
      // Go's decoder leaves `namespace: ""` at its zero value, which k8spin reads as "no namespace".
      namespaces: namespace ? [namespace, ...namespaces] : namespaces,
      labels: this.labels(fields.get('labels'), `${path}.labels`),
      ...(tenant !== undefined && { tenantIds: [tenant] }),
      ...(limits !== undefined && { limits }),
      where: `${this.file}:${this.lineOf(node)} ${path}`,
    };
  }

  /** A `limits:` mapping of limit names to values (`rate: 10`, `max_range: 32d`); undefined when absent. */
  private limits(entry: Entry | undefined, path: string): LimitsOverrides | undefined {
    const node = this.resolve(entry?.value ?? null);
    if (isNull(node)) return undefined;
    if (!isMap(node)) throw this.fail(node, path, 'must be a mapping of limit names to values');
    const block = new Map<string, string>();
    const keys = new Map<string, Node>();
    for (const [name, field] of this.entries(node, path)) {
      const value = this.resolve(field.value);
      const text = value === null ? undefined : this.scalarText(value);
      if (text === undefined) throw this.fail(field.key, `${path}.${name}`, 'must be a number or a duration');
      block.set(name, text);
      keys.set(name, field.key);
    }
    const read = readLimits(block);
    if (!read.ok) throw this.fail(keys.get(read.error.key) ?? node, `${path}.${read.error.key}`, read.error.message);
    return read.value;
  }

  private labels(entry: Entry | undefined, path: string): Record<string, readonly string[]> {
    const node = this.resolve(entry?.value ?? null);
    if (isNull(node)) return {};
    if (!isMap(node)) throw this.fail(node, path, 'must be a mapping of label names to a value or a list of values');
    const labels: [string, readonly string[]][] = [];
    for (const [name, label] of this.entries(node, path)) {
      if (!isLabelName(name)) throw this.fail(label.key, `${path}.${name}`, 'is not a valid label name');
      const values = this.stringList(label, `${path}.${name}`);
      if (values === undefined) throw this.fail(label.key, `${path}.${name}`, 'must not be empty');
      labels.push([name, values]);
    }
    // fromEntries defines own properties, so even a label named __proto__ stays data.
    return Object.fromEntries(labels);
  }

  /** A string or a list of strings, as a list; undefined when absent or null. */
  private stringList(entry: Entry | undefined, path: string): readonly string[] | undefined {
    const node = this.resolve(entry?.value ?? null);
    if (isNull(node)) return undefined;
    if (isSeq(node)) {
      if (node.items.length === 0) throw this.fail(node, path, 'must list at least one value');
      return node.items.map((item, index) => this.nonEmptyString(this.resolve(item as Node), `${path}[${index}]`, node));
    }
    if (!isScalar(node)) throw this.fail(entry?.key ?? node, path, 'must be a string or a list of strings');
    return [this.nonEmptyString(node, path, node)];
  }

  private requiredString(fields: ReadonlyMap<string, Entry>, name: string, owner: Node, path: string): string {
    const entry = fields.get(name);
    if (entry === undefined) throw this.fail(owner, `${path}.${name}`, 'is required');
    const node = this.resolve(entry.value);
    if (isNull(node)) throw this.fail(entry.key, `${path}.${name}`, 'must not be empty');
    return this.nonEmptyString(node, `${path}.${name}`, entry.key);
  }

  private optionalString(entry: Entry | undefined, path: string): string | undefined {
    const node = this.resolve(entry?.value ?? null);
    if (node === null || isNull(node)) return undefined;
    const text = this.scalarText(node);
    if (text === undefined) throw this.fail(node, path, 'must be a string');
    return text;
  }

  private nonEmptyString(node: Node | null, path: string, near: Node): string {
    const text = node === null ? undefined : this.scalarText(node);
    if (text === undefined) throw this.fail(node ?? near, path, 'must be a string');
    if (text === '') throw this.fail(node ?? near, path, 'must not be empty');
    return text;
  }

  /** A scalar as Go's decoder would give it to a string field: unquoted numbers and booleans as written. */
  private scalarText(node: Node): string | undefined {
    if (!isScalar(node) || node.value === null) return undefined;
    if (typeof node.value === 'string') return node.value;
    if (typeof node.value === 'number' || typeof node.value === 'boolean' || typeof node.value === 'bigint') {
      return node.source ?? String(node.value);
    }
    return undefined;
  }

  /** A mapping's fields by name, with YAML merge keys (`<<: *base`) applied as Go's decoder does. */
  private entries(map: Node, path: string, merging: ReadonlySet<Node> = new Set()): Map<string, Entry> {
    // Memoized: a mapping merged from many places is read once, so chains of merges cost linear time.
    const known = this.entriesOf.get(map);
    if (known) return known;
    if (!isMap(map)) throw this.fail(map, path, 'a merge key (<<) must refer to a mapping');
    const own = new Map<string, Entry>();
    const merged: Node[] = [];
    for (const pair of map.items) {
      const key = pair.key as Node | null;
      const value = (pair.value ?? null) as Node | null;
      if (isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<') {
        const source = this.resolve(value);
        if (isSeq(source)) merged.push(...source.items.map((item) => this.resolve(item as Node)).filter(isNode));
        else if (source !== null) merged.push(source);
        continue;
      }
      const name = key === null ? undefined : this.scalarText(this.resolve(key) ?? key);
      if (name === undefined) throw this.fail(key ?? map, path, 'keys must be strings');
      own.set(name, { key: key!, value });
    }
    const chain = new Set([...merging, map]);
    for (const source of merged) {
      if (chain.has(source)) throw this.fail(source, path, 'a merge key (<<) refers to itself');
      for (const [name, entry] of this.entries(source, path, chain)) {
        if (!own.has(name)) own.set(name, entry);
      }
    }
    this.entriesOf.set(map, own);
    return own;
  }

  private resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    return isAlias(node) ? ((node.resolve(this.doc) as Node | undefined) ?? null) : node;
  }

  private lineOf(node: Node | null): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  private fail(node: Node | null, path: string, message: string): SchemaError {
    return new SchemaError(`${this.file}:${this.lineOf(node)}: ${path ? `${path}: ` : ''}${message}`);
  }

  private warn(node: Node | null, path: string, message: string): void {
    const line = this.lineOf(node);
    this.warnings.push({ line, text: `${this.file}:${line}: ${path}: ${message}` });
  }
}

/** Absent, empty or `~`/`null`: what Go's decoder leaves at the zero value. */
function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function isNode(node: Node | null): node is Node {
  return node !== null;
}
