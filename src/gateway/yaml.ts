import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { parseDuration } from '../duration.js';
import { err, ok, type Result } from '../result.js';

/** A refusal of a config file, already worded as `FILE:LINE: key.path: what is wrong`. */
export class ConfigError extends Error {}

// As in the users file: aliases are how "billion laughs" files blow up.
const MAX_ALIAS_COUNT = 10_000;

/**
 * One value of a config file with where it stands, read strictly as Go's `yaml.UnmarshalStrict` reads: a mapping
 * names only the keys its reader knows (`fields`), duplicate keys are refused, and every refusal names the file,
 * the line and the key path.
 */
export class YamlValue {
  constructor(
    private readonly doc: YamlFile,
    readonly node: Node | null,
    /** The key path, as `components.distributor.url` or `tenants[2].id`. */
    readonly path: string,
    /** The node to point at when this one is absent. */
    private readonly near: Node | null,
  ) {}

  get line(): number {
    return this.doc.lineOf(this.node ?? this.near);
  }

  /** `FILE:LINE`, for messages about the value. */
  get where(): string {
    return `${this.doc.file}:${this.line}`;
  }

  /** Absent, empty, `~` or `null`: what Go's decoder leaves at its zero value. */
  get isNull(): boolean {
    return this.node === null || (isScalar(this.node) && this.node.value === null);
  }

  fail(message: string): ConfigError {
    return new ConfigError(`${this.where}: ${this.path === '' ? '' : `${this.path}: `}${message}`);
  }

  /** The mapping's keys, in file order: a key outside `known` is refused. */
  fields(known: readonly string[]): Fields {
    if (!isMap(this.node)) throw this.fail('must be a mapping');
    const entries = new Map<string, YamlValue>();
    for (const pair of this.node.items) {
      const key = this.doc.resolve(pair.key as Node | null);
      const name = isScalar(key) ? String(key.value) : undefined;
      const at = this.child(name ?? '?', key);
      if (name === undefined) throw at.fail('keys must be strings');
      if (!known.includes(name)) throw at.fail(`unknown key (known here: ${known.join(', ')})`);
      entries.set(name, this.child(name, this.doc.resolve(pair.value as Node | null), key));
    }
    return new Fields(entries, this);
  }

  /** The mapping's entries, for maps keyed by name (cortex-gateway's `basic` and `targets`). */
  entries(): [string, YamlValue][] {
    if (this.isNull) return [];
    if (!isMap(this.node)) throw this.fail('must be a mapping');
    return this.node.items.map((pair) => {
      const key = this.doc.resolve(pair.key as Node | null);
      if (!isScalar(key) || key.value === null) throw this.child('?', key).fail('keys must be strings');
      const name = this.scalarText(key)!;
      return [name, this.child(name, this.doc.resolve(pair.value as Node | null), key)];
    });
  }

  items(): YamlValue[] {
    if (this.isNull) return [];
    if (!isSeq(this.node)) throw this.fail('must be a list');
    return this.node.items.map((item, i) => new YamlValue(this.doc, this.doc.resolve(item as Node | null), `${this.path}[${i}]`, this.node));
  }

  /** A string as Go's decoder gives it to a string field: unquoted numbers and booleans as written. */
  string(): string {
    const text = this.node === null ? undefined : this.scalarText(this.node);
    if (text === undefined) throw this.fail('must be a string');
    return text;
  }

  nonEmptyString(): string {
    const text = this.string();
    if (text === '') throw this.fail('must not be empty');
    return text;
  }

  /** A string or a list of strings, as a list. */
  strings(): string[] {
    if (isSeq(this.node)) return this.items().map((item) => item.nonEmptyString());
    return [this.nonEmptyString()];
  }

  bool(): boolean {
    if (!isScalar(this.node) || typeof this.node.value !== 'boolean') throw this.fail('must be true or false');
    return this.node.value;
  }

  integer(min: number, max: number): number {
    const value = isScalar(this.node) ? this.node.value : undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.fail(`must be a whole number from ${min} to ${max}`);
    }
    return value;
  }

  /** A duration in milliseconds: `30s`, `1m30s`, `500ms`, or a bare number of seconds (the auth-gateway proposal's `read_timeout: 5`). */
  duration(): number {
    const ms = parseDuration(this.string());
    if (!ms.ok) throw this.fail(ms.error);
    if (ms.value > 2 ** 31 - 1) throw this.fail('must be at most 24 days');
    return ms.value;
  }

  private child(name: string, node: Node | null, near: Node | null = null): YamlValue {
    return new YamlValue(this.doc, node, this.path === '' ? name : `${this.path}.${name}`, near ?? this.node);
  }

  private scalarText(node: Node): string | undefined {
    if (!isScalar(node) || node.value === null) return undefined;
    if (typeof node.value === 'string') return node.value;
    if (typeof node.value === 'number' || typeof node.value === 'boolean') return node.source ?? String(node.value);
    return undefined;
  }
}

/** A mapping's fields by name, each read at most once through `get` or `required`. */
export class Fields {
  constructor(
    private readonly entries: ReadonlyMap<string, YamlValue>,
    private readonly owner: YamlValue,
  ) {}

  has(name: string): boolean {
    return this.entries.has(name) && !this.entries.get(name)!.isNull;
  }

  /** The value, undefined when absent or null. */
  get(name: string): YamlValue | undefined {
    const value = this.entries.get(name);
    return value === undefined || value.isNull ? undefined : value;
  }

  required(name: string): YamlValue {
    const value = this.get(name);
    if (value === undefined) throw this.owner.fail(`${name} is required`);
    return value;
  }

  /** One of two names for the same setting (a proposal's and an implementation's): giving both is refused. */
  either(first: string, second: string): YamlValue | undefined {
    const a = this.get(first);
    const b = this.get(second);
    if (a !== undefined && b !== undefined) throw b.fail(`${first} and ${second} are the same setting: give one`);
    return a ?? b;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }
}

/** A parsed YAML file: its root value, and line numbers for every node in it. */
export class YamlFile {
  private readonly lines = new LineCounter();
  private readonly doc: Document;

  private constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, merge: true });
  }

  /** The file's root, or the first YAML error with its line. */
  static parse(text: string, file: string): Result<{ yaml: YamlFile; root: YamlValue }, string> {
    const yaml = new YamlFile(file, text);
    const syntax = yaml.doc.errors[0];
    if (syntax !== undefined) return err(`${file}:${yaml.lines.linePos(syntax.pos[0]).line}: ${syntax.message}`);
    try {
      yaml.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      return err(`${file}: refused: ${(error as Error).message}`);
    }
    return ok({ yaml, root: new YamlValue(yaml, yaml.resolve(yaml.doc.contents as Node | null), '', null) });
  }

  resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    return isAlias(node) ? ((node.resolve(this.doc) as Node | undefined) ?? null) : node;
  }

  lineOf(node: Node | null): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }
}
