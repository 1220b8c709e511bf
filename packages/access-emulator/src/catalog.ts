import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { stableUuid } from './ids';
import type { AccessEmulatorUser } from './types';

/** A group as Access puts it in an identity. */
export interface AccessGroup {
  id: string;
  name: string;
  email: string;
}

/** Someone who can sign in, with the identity Access would capture for them. */
export interface Person {
  email: string;
  name: string;
  groups: AccessGroup[];
}

interface CatalogContents {
  users: AccessEmulatorUser[];
  /** Group name (lower case) to the group's profile email. */
  groupEmails: Map<string, string>;
}

type YamlRecord = Record<string, unknown>;

function record(value: unknown): YamlRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as YamlRecord)
    : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
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
  const contents: CatalogContents = { users: [], groupEmails: new Map() };
  for (const path of paths) {
    for (const file of await catalogFiles(path)) {
      for (const entity of await readEntities(file)) {
        const kind = text(entity.kind)?.toLowerCase();
        const metadata = record(entity.metadata);
        const spec = record(entity.spec);
        const profile = record(spec.profile);
        const name = text(metadata.name);
        if (kind === 'group' && name) {
          contents.groupEmails.set(name.toLowerCase(), text(profile.email) ?? '');
        }
        const email = text(profile.email);
        // A User without a profile email could never be matched by Access, so it is skipped.
        if (kind === 'user' && email) {
          const memberOf = Array.isArray(spec.memberOf) ? spec.memberOf : [];
          contents.users.push({
            email,
            name: text(profile.displayName) ?? name,
            groups: memberOf.flatMap(ref => (typeof ref === 'string' ? [groupName(ref)] : [])),
          });
        }
      }
    }
  }
  return contents;
}

/** The people Access knows, looked up by email without regard to case. */
export class People {
  private constructor(private readonly byEmail: Map<string, Person>) {}

  static async load(catalog: string[] = [], extraUsers: AccessEmulatorUser[] = []): Promise<People> {
    const { users, groupEmails } = await readCatalog(catalog);
    const byEmail = new Map<string, Person>();
    // Later entries win, so `users` given directly override catalog people with the same email.
    for (const user of [...users, ...extraUsers]) {
      byEmail.set(user.email.toLowerCase(), {
        email: user.email,
        name: user.name ?? localPart(user.email),
        groups: (user.groups ?? []).map(group => ({
          id: stableUuid('group', group.toLowerCase()),
          name: group,
          email: groupEmails.get(group.toLowerCase()) ?? '',
        })),
      });
    }
    return new People(byEmail);
  }

  list(): Person[] {
    return [...this.byEmail.values()];
  }

  /** The known person, or a groupless stranger named after the email's local part. */
  identify(email: string): Person {
    return this.byEmail.get(email.toLowerCase()) ?? { email, name: localPart(email), groups: [] };
  }
}

function localPart(email: string): string {
  return email.split('@')[0];
}
