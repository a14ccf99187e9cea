import { Gauge } from 'prom-client';
import type { Deps } from '../observability/deps.js';
import { registered } from '../observability/metrics.js';
import { err, ok, type Result } from '../result.js';
import { entryPrincipal } from './entry-principal.js';
import { PasswordVerifier, type Decoys, type StoredPassword } from './password.js';
import type { AuthOutcome, Authenticator, Principal, RequestView } from './types.js';
import type { UserEntry } from './users-file.js';
import { watchUsersFile } from './users.js';

export interface BasicAuthOptions {
  /** The users file, in k8spin's format. */
  readonly file: string;
  readonly reloadIntervalMinutes: number;
  readonly namespaceLabel: string;
}

export const BASIC_CHALLENGE = 'Basic realm="promgate"';

/** One users-file entry, ready to serve: its matchers are worked out once per load, not per request. */
interface Account {
  readonly password: StoredPassword;
  /** Undefined for a user granted nothing (no namespace, no labels): such a user gets 403. */
  readonly principal: Principal | undefined;
}

/** Entries by username, in file order: one name may have several passwords, each with its own grant. */
type Accounts = ReadonlyMap<string, readonly Account[]>;

/** One load of the users file. */
interface Users {
  readonly accounts: Accounts;
  /** Where the file holds bcrypt hashes, what a refusal that checked none checks instead (see decoysFor). */
  readonly decoys: Decoys | undefined;
}

/**
 * Basic authentication against a hot-reloaded users file. Each request reads the accounts once, at its start,
 * so a reload in the middle of a bcrypt check cannot mix two files. Where a username has several entries, the
 * first one (in file order) whose password matches decides. When bcrypt's queue is full, a credential that needs
 * bcrypt gets 429 at once; one already verified never waits for it.
 */
export async function createBasicAuthenticator(
  options: BasicAuthOptions,
  deps: Deps,
  verifier: PasswordVerifier = new PasswordVerifier(),
): Promise<Result<Authenticator, string>> {
  const prepare = usersPreparer(options.namespaceLabel, deps, verifier);
  const watched = await watchUsersFile(options, deps);
  if (!watched.ok) return err(watched.error);
  const users = watched.value;
  // Prepared at each load, so that what looks wrong in the file is logged then, not at the first request.
  let prepared = prepare(users.current().users, options.file);
  users.onChange((file) => {
    prepared = prepare(file.users, options.file);
  });
  return ok(basicAuthenticator(() => prepared, verifier, () => users.close()));
}

/**
 * Basic authentication over users kept elsewhere (a gateway file's tenants, reloaded with it): `entries()` is read
 * at each request's start and must give the same array until the users change, as the users file's accounts do.
 */
export function createBasicAuthenticatorOver(
  entries: () => readonly UserEntry[],
  origin: string,
  namespaceLabel: string,
  deps: Deps,
  verifier: PasswordVerifier = new PasswordVerifier(),
): Authenticator {
  const prepare = usersPreparer(namespaceLabel, deps, verifier);
  let last: { entries: readonly UserEntry[]; users: Users } | undefined;
  return basicAuthenticator(
    () => {
      const now = entries();
      if (last?.entries !== now) last = { entries: now, users: prepare(now, origin) };
      return last.users;
    },
    verifier,
    () => Promise.resolve(),
  );
}

/** Turns entries into accounts and decoys, saying in the log what looks wrong with them. */
function usersPreparer(namespaceLabel: string, deps: Deps, verifier: PasswordVerifier) {
  const logger = deps.logger.child({ auth: 'basic' });
  const costs = registered(deps.registry, 'promgate_users_bcrypt_costs', (registers) => new Gauge({
    name: 'promgate_users_bcrypt_costs',
    help: 'Different bcrypt costs among the users file\'s hashes: above 1, refusal times tell costlier users apart.',
    registers,
  }));
  const prepare = (entries: readonly UserEntry[], origin: string): Users => {
    for (const user of entries) {
      if (user.namespaces.length === 0 && Object.keys(user.labels).length === 0 && user.tenantIds === undefined && user.passthrough !== true) {
        logger.warn(`${user.where}: ${user.username} has no namespace, no labels and no tenant, so gets 403`);
      }
    }
    const decoys = verifier.decoysFor(entries.flatMap((user) => (user.password === undefined ? [] : [user.password])));
    costs.set(decoys?.costs ?? 0);
    if (decoys !== undefined && decoys.costs > 1) {
      logger.warn(
        `${origin}: its bcrypt hashes have ${decoys.costs} different costs: refusing a wrong password takes longer for the users with costlier hashes, which tells an attacker who they are; rehash them at one cost (promgate hash-password --cost N)`,
      );
    }
    return { accounts: indexAccounts(entries, namespaceLabel), decoys };
  };
  return prepare;
}

/** The authenticator itself, over whatever keeps the users current. */
function basicAuthenticator(current: () => Users, verifier: PasswordVerifier, closeUsers: () => Promise<void>): Authenticator {
  const authenticate = (request: RequestView): AuthOutcome | Promise<AuthOutcome> => {
    const raw = request.header('authorization');
    if (raw === undefined || raw.trim() === '') return absent('no credentials', BASIC_CHALLENGE);
    if (!BASIC_SCHEME.test(raw)) return absent('no Basic credentials');
    const credentials = readBasicCredentials(raw);
    if (!credentials) return refuse(401, 'malformed Basic credentials');
    const { user, password } = credentials;
    const { accounts: byName, decoys } = current();
    const accounts = byName.get(user) ?? [];
    // The cheap checks (plain passwords, remembered bcrypt answers) answer without a promise, in file order,
    // until an entry needs bcrypt: from there on, the slow path keeps the order.
    let checkedBcrypt = false;
    for (let index = 0; index < accounts.length; index++) {
      const account = accounts[index]!;
      const verdict = verifier.check(user, password, account.password);
      if (verdict === true) return admit(user, account);
      if (verdict === undefined) return verifySlowly(user, password, accounts.slice(index));
      if (account.password.kind === 'bcrypt') checkedBcrypt = true;
    }
    const reason = accounts.length === 0 ? `unknown user ${JSON.stringify(user)}` : `wrong password for ${JSON.stringify(user)}`;
    // A refusal that checked no bcrypt hash (an unknown name, a plain password) checks the decoy instead, so that it
    // costs what a wrong bcrypt password costs, and its timing tells nothing of which names exist.
    const decoy = checkedBcrypt ? undefined : decoys?.for(user);
    if (decoy === undefined || verifier.check(user, password, decoy) !== undefined) return refuse(401, reason);
    return verifier.verify(user, password, decoy).then((verdict) => (verdict === 'busy' ? busy() : refuse(401, reason)));
  };

  const verifySlowly = async (user: string, password: string, accounts: readonly Account[]): Promise<AuthOutcome> => {
    for (const account of accounts) {
      const verdict = await verifier.verify(user, password, account.password);
      if (verdict === 'busy') return busy();
      if (verdict) return admit(user, account);
    }
    return refuse(401, `wrong password for ${JSON.stringify(user)}`);
  };

  return { authenticate, close: () => Promise.all([closeUsers(), verifier.close()]).then(() => undefined) };
}

function indexAccounts(entries: readonly UserEntry[], namespaceLabel: string): Accounts {
  const accounts = new Map<string, Account[]>();
  for (const entry of entries) {
    // A certificate-only entry: no password logs in as it.
    if (entry.password === undefined) continue;
    const principal = entryPrincipal(entry, namespaceLabel);
    const list = accounts.get(entry.username) ?? [];
    list.push(Object.freeze({ password: entry.password, principal }));
    accounts.set(entry.username, list);
  }
  return accounts;
}

const BASIC_SCHEME = /^[ \t]*basic(?:[ \t]|$)/i;

// Stateless between calls (no streaming), so one serves every request.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** `Authorization: Basic base64(user:password)` (RFC 7617, UTF-8); undefined when it is anything else. */
export function readBasicCredentials(header: string): { user: string; password: string } | undefined {
  const match = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header.trim());
  const token = match?.[1];
  if (token === undefined || token.length % 4 === 1) return undefined;
  let decoded: string;
  try {
    decoded = UTF8.decode(Buffer.from(token, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function admit(user: string, account: Account): AuthOutcome {
  if (account.principal) return { ok: true, principal: account.principal };
  return refuse(403, `${JSON.stringify(user)} has no namespace, no labels and no tenant`);
}

/** Nothing was checked: too many bcrypt runs were waiting already. The caller may try again shortly. */
function busy(): AuthOutcome {
  return refuse(429, 'too many password checks waiting for bcrypt');
}

function refuse(status: 401 | 403 | 429, reason: string): AuthOutcome {
  return { ok: false, status, reason };
}

/** No Basic credentials at all: another authenticator of a chain may recognise the request. */
function absent(reason: string, challenge?: string): AuthOutcome {
  return { ok: false, status: 401, reason, absent: true, ...(challenge !== undefined && { challenge }) };
}
