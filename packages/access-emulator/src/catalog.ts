import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { OpaqueIds } from './ids';
import type {
  AccessEmulatorGroup,
  AccessEmulatorIdentityGroup,
  AccessEmulatorUser,
} from './types';

/** Fixes a User's Access user id, so tests and sign-in resolvers can know it in advance. */
const ACCESS_USER_ID_ANNOTATION = 'cloudflare.com/access-user-id';
/** Fixes a Group's Access group id, so ownership maps can name it in advance. */
const ACCESS_GROUP_ID_ANNOTATION = 'cloudflare.com/access-group-id';
/** Bounds on the groups given to a stranger at sign-in, so a form cannot grow a session without end. */
const MAX_STRANGER_GROUPS = 20;
const MAX_GROUP_NAME_LENGTH = 100;

/** Someone who can sign in, with the identity Access would capture for them. */
export interface Person {
  email: string;
  name: string;
  groups: AccessEmulatorIdentityGroup[];
  /** Access's user id: the token's `sub` and get-identity's `user_uuid`. */
  userId: string;
  /** The identity provider's user id: get-identity's `id`. */
  idpUserId: string;
}

/** What a catalog Group entity tells about a group. */
interface CatalogGroup {
  id?: string;
  email: string;
}

interface CatalogContents {
  users: AccessEmulatorUser[];
  /** The names of Users left out because they have no `spec.profile.email`. */
  skippedUsers: string[];
  /** By group name (lower case). */
  groups: Map<string, CatalogGroup>;
}

/** Group names given at sign-in, trimmed and without empty ones, or why they are refused. */
export type StrangerGroupNames =
  | { ok: true; names: string[] }
  | { ok: false; reason: string };

type YamlRecord = Record<string, unknown>;

function record(value: unknown): YamlRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as YamlRecord)
    : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== ''
    ? value.trim()
    : undefined;
}

/** `group:default/platform`, `group:platform` and `platform` all name the group `platform`. */
function groupName(ref: string): string {
  return ref.replace(/^group:/i, '').replace(/^default\//i, '');
}

async function catalogFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) {
    return [path];
  }
  const names = (await readdir(path)).sort();
  return names
    .filter(name => ['.yaml', '.yml'].includes(extname(name).toLowerCase()))
    .map(name => join(path, name));
}

async function readEntities(file: string): Promise<YamlRecord[]> {
  const documents = parseAllDocuments(await readFile(file, 'utf8'));
  return documents.map(document => {
    const [error] = document.errors;
    if (error) {
      throw new Error(`Cannot read catalog file ${file}: ${error.message}`);
    }
    return record(document.toJS());
  });
}

/** Reads User and Group entities from Backstage catalog YAML files or directories (not recursive). */
export async function readCatalog(paths: string[]): Promise<CatalogContents> {
  const contents: CatalogContents = {
    users: [],
    skippedUsers: [],
    groups: new Map(),
  };
  for (const path of paths) {
    for (const file of await catalogFiles(path)) {
      for (const entity of await readEntities(file)) {
        const kind = text(entity.kind)?.toLowerCase();
        const metadata = record(entity.metadata);
        const annotations = record(metadata.annotations);
        const spec = record(entity.spec);
        const profile = record(spec.profile);
        const name = text(metadata.name);
        if (kind === 'group' && name) {
          contents.groups.set(name.toLowerCase(), {
            id: text(annotations[ACCESS_GROUP_ID_ANNOTATION]),
            email: text(profile.email) ?? '',
          });
        }
        const email = text(profile.email);
        // A User without a profile email could never be matched by Access, so it is skipped.
        if (kind === 'user' && !email) {
          contents.skippedUsers.push(name ?? '(no name)');
        }
        if (kind === 'user' && email) {
          const memberOf = Array.isArray(spec.memberOf) ? spec.memberOf : [];
          contents.users.push({
            email,
            name: text(profile.displayName) ?? name,
            id: text(annotations[ACCESS_USER_ID_ANNOTATION]),
            groups: memberOf.flatMap(ref =>
              typeof ref === 'string' ? [groupName(ref)] : [],
            ),
          });
        }
      }
    }
  }
  return contents;
}

/** The people Access knows, looked up by email without regard to case, with ids kept per instance. */
export class People {
  private readonly userIds: OpaqueIds;
  private readonly idpUserIds = new OpaqueIds();
  private readonly groupIds: OpaqueIds;

  private constructor(
    private readonly byEmail: Map<string, AccessEmulatorUser>,
    private readonly catalogGroups: Map<string, CatalogGroup>,
    /** The catalog Users left out for having no email. */
    readonly skippedUsers: string[],
  ) {
    this.userIds = new OpaqueIds(givenIds(byEmail));
    this.groupIds = new OpaqueIds(givenIds(catalogGroups));
  }

  static async load(
    catalog: string[] = [],
    extraUsers: AccessEmulatorUser[] = [],
  ): Promise<People> {
    const { users, groups, skippedUsers } = await readCatalog(catalog);
    const byEmail = new Map<string, AccessEmulatorUser>();
    // Later entries win, so `users` given directly override catalog people with the same email.
    for (const user of [...users, ...extraUsers]) {
      byEmail.set(user.email.toLowerCase(), user);
    }
    return new People(byEmail, groups, skippedUsers);
  }

  list(): Person[] {
    return [...this.byEmail.values()].map(user => this.person(user));
  }

  /**
   * The known person, or a stranger named after the email's local part, in `strangerGroups`
   * (none by default), resolved as catalog group names are.
   */
  identify(email: string, strangerGroups: string[] = []): Person {
    return this.person(
      this.byEmail.get(email.toLowerCase()) ?? {
        email,
        groups: strangerGroups,
      },
    );
  }

  private person(user: AccessEmulatorUser): Person {
    return {
      email: user.email,
      name: user.name ?? localPart(user.email),
      groups: (user.groups ?? []).map(group => this.group(group)),
      userId: this.userIds.of(user.email),
      idpUserId: this.idpUserIds.of(user.email),
    };
  }

  private group(
    membership: string | AccessEmulatorGroup,
  ): AccessEmulatorIdentityGroup {
    const { id, name, email } =
      typeof membership === 'string' ? { name: membership } : membership;
    return {
      id: id ?? this.groupIds.of(name),
      name,
      email: email ?? this.catalogGroups.get(name.toLowerCase())?.email ?? '',
    };
  }
}

/** Checks the group names someone gives a stranger at sign-in, on the login page or through `signIn`. */
export function strangerGroupNames(given: string[]): StrangerGroupNames {
  const names = given.map(name => name.trim()).filter(name => name !== '');
  if (names.length > MAX_STRANGER_GROUPS) {
    return {
      ok: false,
      reason: `Give at most ${MAX_STRANGER_GROUPS} Access groups, not ${names.length}.`,
    };
  }
  if (names.some(name => name.length > MAX_GROUP_NAME_LENGTH)) {
    return {
      ok: false,
      reason: `An Access group name can have at most ${MAX_GROUP_NAME_LENGTH} characters.`,
    };
  }
  return { ok: true, names };
}

/** The ids given outright (by annotation or option), by key. */
function givenIds(entries: Map<string, { id?: string }>): [string, string][] {
  return [...entries].flatMap(([key, { id }]) =>
    id === undefined ? [] : [[key, id] as [string, string]],
  );
}

function localPart(email: string): string {
  return email.split('@')[0];
}
