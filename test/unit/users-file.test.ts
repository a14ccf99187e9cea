import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseUsersFile, type UsersFile } from '../../src/auth/users-file.js';

const K8SPIN = new URL('../../configs/k8spin/', import.meta.url);
const k8spinFile = (name: string): string => readFileSync(new URL(name, K8SPIN), 'utf8');

function loads(text: string, file = 'authn.yaml'): UsersFile {
  const parsed = parseUsersFile(text, file);
  if (!parsed.ok) assert.fail(`expected ${file} to load, got: ${parsed.error}`);
  return parsed.value;
}

function fails(text: string, file = 'authn.yaml'): string {
  const parsed = parseUsersFile(text, file);
  if (parsed.ok) assert.fail(`expected ${file} to be refused, it loaded ${JSON.stringify(parsed.value)}`);
  return parsed.error;
}

/** The users as plain data, for comparing with what a file says. */
const summary = (file: UsersFile) =>
  file.users.map((u) => ({ username: u.username, password: u.password, namespaces: u.namespaces, labels: u.labels }));
const plain = (text: string) => ({ kind: 'plain', text }) as const;

describe("k8spin's example users files load unchanged", () => {
  it('sample.yaml', () => {
    assert.deepEqual(summary(loads(k8spinFile('sample.yaml'), 'sample.yaml')), [
      { username: 'Happy', password: plain('Prometheus'), namespaces: ['default'], labels: {} },
      { username: 'Sad', password: plain('Prometheus'), namespaces: ['kube-system'], labels: {} },
    ]);
  });

  it('multiple.user.yaml (no final newline)', () => {
    assert.deepEqual(summary(loads(k8spinFile('multiple.user.yaml'))), [
      { username: 'User-a', password: plain('pass-a'), namespaces: ['tenant-a'], labels: {} },
      { username: 'User-b', password: plain('pass-b'), namespaces: ['tenant-b'], labels: {} },
    ]);
  });

  it('multiple.namespaces.yaml: namespace before namespaces, and one username with two passwords', () => {
    const users = summary(loads(k8spinFile('multiple.namespaces.yaml')));
    assert.equal(users.length, 4);
    assert.deepEqual(users[2], {
      username: 'Multiple',
      password: plain('Namespaces'),
      namespaces: ['monitoring', 'default', 'kube-system', 'kube-public'],
      labels: {},
    });
    assert.deepEqual(users[3], {
      username: 'Multiple',
      password: plain('NamespacesWithoutNamespace'),
      namespaces: ['default', 'kube-system', 'kube-public'],
      labels: {},
    });
  });

  it('sample.labels.yaml: label values as lists, with or without namespaces', () => {
    assert.deepEqual(summary(loads(k8spinFile('sample.labels.yaml'))), [
      { username: 'Happy', password: plain('Prometheus'), namespaces: [], labels: { app: ['happy', 'sad'], team: ['america'] } },
      { username: 'Sad', password: plain('Prometheus'), namespaces: [], labels: { namespace: ['kube-system', 'monitoring'] } },
      { username: 'bored', password: plain('Prometheus'), namespaces: ['default', 'kube-system'], labels: { dep: ['system'] } },
    ]);
  });

  it('none of them warns', () => {
    for (const name of ['sample.yaml', 'multiple.user.yaml', 'multiple.namespaces.yaml', 'sample.labels.yaml']) {
      assert.deepEqual(loads(k8spinFile(name), name).warnings, [], name);
    }
  });

  it('bad.yaml is refused with its name and the line of the mistake', () => {
    const error = fails(k8spinFile('bad.yaml'), 'configs/k8spin/bad.yaml');
    assert.match(error, /^configs\/k8spin\/bad\.yaml:1: Implicit keys need to be on a single line/);
  });

  it("older k8spin files: a label's value as a plain string", () => {
    const file = loads('users:\n  - username: a\n    password: b\n    labels:\n      team: america\n      app: [x, y]\n');
    assert.deepEqual(file.users[0]?.labels, { team: ['america'], app: ['x', 'y'] });
  });
});

describe('users file: values', () => {
  it("takes unquoted numbers and booleans as written, as Go's decoder does", () => {
    const file = loads('users:\n  - username: 007\n    password: 0123\n    namespace: 1e3\n    labels:\n      shard: [1, 0x1F, true]\n');
    assert.deepEqual(summary(file), [{ username: '007', password: plain('0123'), namespaces: ['1e3'], labels: { shard: ['1', '0x1F', 'true'] } }]);
  });

  it('reads bcrypt hashes', () => {
    const hash = '$2y$10$ilLswsVqwtifkepKpgQI..eKBjiQs1IcRKG3NR0yyDJ0Nyb8fmjAe';
    assert.deepEqual(loads(`users:\n  - username: a\n    password: ${hash}\n    namespace: n\n`).users[0]?.password, { kind: 'bcrypt', hash });
  });

  it('takes an entry without a password as certificate-only, and an empty password as a mistake', () => {
    const file = loads('users:\n  - username: machine-1\n    namespace: n\n');
    assert.deepEqual(summary(file), [{ username: 'machine-1', password: undefined, namespaces: ['n'], labels: {} }]);
    assert.equal('password' in file.users[0]!, false);
  });

  it('takes `namespace: ""` and null fields as absent, like k8spin', () => {
    const file = loads('users:\n  - username: a\n    password: b\n    namespace: ""\n    namespaces:\n    labels: ~\n');
    assert.deepEqual(summary(file), [{ username: 'a', password: plain('b'), namespaces: [], labels: {} }]);
  });

  it('accepts a single string for namespaces', () => {
    assert.deepEqual(loads('users:\n  - {username: a, password: b, namespaces: x}\n').users[0]?.namespaces, ['x']);
  });

  it('keeps a label named __proto__ as data', () => {
    const labels = loads('users:\n  - {username: a, password: b, labels: {__proto__: [x]}}\n').users[0]!.labels;
    assert.deepEqual(Object.entries(labels), [['__proto__', ['x']]]);
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
  });

  it('ignores unknown fields, as k8spin does, and says so', () => {
    const file = loads('users:\n  - username: a\n    password: b\n    namespace: n\n    namepsaces: [m]\nextra: 1\n');
    assert.deepEqual(summary(file), [{ username: 'a', password: plain('b'), namespaces: ['n'], labels: {} }]);
    assert.deepEqual(file.warnings, ['authn.yaml:5: users[0].namepsaces: unknown field, ignored', 'authn.yaml:6: extra: unknown field, ignored']);
  });

  it('loads a file without users, with a warning', () => {
    assert.deepEqual(loads('users: []\n').users, []);
    assert.deepEqual(loads('users:\n').warnings, ['authn.yaml:1: users: no users: nobody can log in']);
  });

  it('applies aliases and merge keys (<<), explicit fields first', () => {
    const text = [
      'defaults: &defaults',
      '  namespaces: [shared]',
      '  labels: {team: [a]}',
      'more: &more',
      '  labels: {team: [ignored]}',
      '  namespace: from-more',
      'users:',
      '  - <<: [*defaults, *more]',
      '    username: u1',
      '    password: p1',
      '  - <<: *defaults',
      '    username: u2',
      '    password: p2',
      '    namespaces: [own]',
    ].join('\n');
    const file = loads(text);
    assert.deepEqual(summary(file), [
      { username: 'u1', password: plain('p1'), namespaces: ['from-more', 'shared'], labels: { team: ['a'] } },
      { username: 'u2', password: plain('p2'), namespaces: ['own'], labels: { team: ['a'] } },
    ]);
  });

  it('loads hundreds of users sharing one anchor', () => {
    let text = 'base: &base\n  namespaces: [a, b]\nusers:\n';
    for (let i = 0; i < 500; i++) text += `  - <<: *base\n    username: u${i}\n    password: p${i}\n`;
    assert.equal(loads(text).users.length, 500);
  });
});

describe('users file: errors name the file, the line and the field', () => {
  const cases: Array<[string, string, string]> = [
    [
      'a label value that is a mapping',
      'users:\n  - username: a\n    password: b\n  - username: c\n    password: d\n  - username: e\n    password: f\n    labels:\n      team:\n        x: 1\n',
      'authn.yaml:9: users[2].labels.team: must be a string or a list of strings',
    ],
    [
      'a label value that is a mapping, in flow style',
      'users:\n  - {username: a, password: b, labels: {team: {x: 1}}}\n',
      'authn.yaml:2: users[0].labels.team: must be a string or a list of strings',
    ],
    ['a list holding a list', 'users:\n  - username: a\n    password: b\n    labels:\n      team: [x, [y]]\n', 'authn.yaml:5: users[0].labels.team[1]: must be a string'],
    ['an empty label list', 'users:\n  - username: a\n    password: b\n    labels:\n      team: []\n', 'authn.yaml:5: users[0].labels.team: must list at least one value'],
    ['an empty label value', "users:\n  - username: a\n    password: b\n    labels:\n      team: ''\n", 'authn.yaml:5: users[0].labels.team: must not be empty'],
    ['an empty namespace in a list', 'users:\n  - username: a\n    password: b\n    namespaces: [x, ""]\n', 'authn.yaml:4: users[0].namespaces[1]: must not be empty'],
    ['a bad label name', 'users:\n  - username: a\n    password: b\n    labels:\n      app-name: x\n', 'authn.yaml:5: users[0].labels.app-name: is not a valid label name'],
    ['labels as a list', 'users:\n  - username: a\n    password: b\n    labels: [x]\n', 'authn.yaml:4: users[0].labels: must be a mapping of label names to a value or a list of values'],
    ['a missing username', 'users:\n  - password: a\n    namespace: n\n', 'authn.yaml:2: users[0].username: is required'],
    ['an empty password', 'users:\n  - username: a\n    password:\n', 'authn.yaml:3: users[0].password: must not be empty'],
    ['a password that is a list', 'users:\n  - username: a\n    password: [x]\n', 'authn.yaml:3: users[0].password: must be a string'],
    ['a namespace that is a mapping', 'users:\n  - username: a\n    password: b\n    namespace: {x: 1}\n', 'authn.yaml:4: users[0].namespace: must be a string'],
    [
      'a mistyped bcrypt hash',
      'users:\n  - username: a\n    password: $2b$10$tooshort\n',
      'authn.yaml:3: users[0].password: looks like a bcrypt hash but is not a valid $2a$/$2b$/$2y$ hash (60 characters, cost 04 to 31)',
    ],
    ['a user that is a string', 'users:\n  - username: a\n    password: b\n  - just-a-name\n', 'authn.yaml:4: users[1]: must be a mapping with a username and a password'],
    ['users as a mapping', 'users:\n  a: b\n', 'authn.yaml:2: users: must be a list of users'],
    ['a document that is a list', '- users\n', 'authn.yaml:1: expected a mapping with a "users" list'],
    ['an empty file', '', 'authn.yaml:1: the file is empty; expected a mapping with a "users" list'],
    ['a file of comments only', '# nothing yet\n', 'authn.yaml:1: the file is empty; expected a mapping with a "users" list'],
    ['a null label', 'users:\n  - username: a\n    password: b\n    labels:\n      team:\n', 'authn.yaml:5: users[0].labels.team: must not be empty'],
    ['a merge of a scalar', 'users:\n  - <<: x\n    username: a\n    password: b\n', 'authn.yaml:2: users[0]: a merge key (<<) must refer to a mapping'],
  ];
  for (const [what, text, error] of cases) {
    it(what, () => assert.equal(fails(text), error));
  }

  it('a YAML syntax error, with the line', () => {
    assert.match(fails('users:\n  - username: a\n    password: "b\n'), /^authn\.yaml:\d+: Missing closing "quote/);
  });

  it('a repeated key', () => {
    assert.match(fails('users:\n  - username: a\n    password: b\n    password: c\n'), /^authn\.yaml:4: Map keys must be unique/);
  });

  it('several documents in one file', () => {
    assert.match(fails('users: []\n---\nusers: []\n'), /^authn\.yaml:\d+: Source contains multiple documents/);
  });
});

describe('users file: hostile YAML', () => {
  const levels = 'abcdefghij'.split('');
  let laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i < levels.length; i++) {
    laughs += `${levels[i]}: &${levels[i]} [${Array(9).fill(`*${levels[i - 1]}`).join(',')}]\n`;
  }

  it('refuses a billion laughs under an ignored key', () => {
    assert.match(fails(`${laughs}users: []\n`), /^authn\.yaml: refused: its YAML aliases expand too much/);
  });

  it('refuses a billion laughs as a label value, without expanding it', () => {
    assert.equal(fails(`${laughs}users:\n  - {username: a, password: b, labels: {team: *j}}\n`), 'authn.yaml:9: users[0].labels.team[0]: must be a string');
  });

  it('refuses merge keys that fan out exponentially', () => {
    let text = '';
    for (let j = 0; j < 9; j++) text += `l0_${j}: &l0_${j} {namespace: x}\n`;
    for (let d = 1; d <= 8; d++) {
      for (let j = 0; j < 9; j++) text += `l${d}_${j}: &l${d}_${j} {<<: [${Array.from({ length: 9 }, (_, k) => `*l${d - 1}_${k}`).join(',')}]}\n`;
    }
    text += 'users:\n  - <<: *l8_0\n    username: a\n    password: b\n';
    assert.match(fails(text), /aliases expand too much/);
  });

  it('refuses a user that merges itself', () => {
    assert.equal(fails('users:\n  - &me\n    username: a\n    password: b\n    <<: *me\n'), 'authn.yaml:3: users[0]: a merge key (<<) refers to itself');
  });
});
