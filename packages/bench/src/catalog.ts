/** The catalog the bench and the soak run against: the sample org plus generated Users. */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

// eslint-disable-next-line no-restricted-syntax -- the bench runs from source, never from a build
const REPO_ROOT = resolve(__dirname, '../../..');
const ORG_FILE = join(REPO_ROOT, 'examples/org.yaml');

/** The name of the i-th generated User; its email is `<name>@example.com`. */
export const generatedPerson = (i: number) =>
  `person-${String(i).padStart(5, '0')}`;

/** Writes examples/org.yaml plus `count` generated Users into `workDir`; returns the file. */
export async function writeCatalog(
  workDir: string,
  count: number,
): Promise<string> {
  const people = Array.from({ length: count }, (_, i) =>
    [
      'apiVersion: backstage.io/v1alpha1',
      'kind: User',
      'metadata:',
      `  name: ${generatedPerson(i)}`,
      'spec:',
      `  profile: { email: ${generatedPerson(i)}@example.com }`,
      '  memberOf: [engineering]',
    ].join('\n'),
  );
  const file = join(workDir, 'bench-org.yaml');
  await writeFile(
    file,
    [(await readFile(ORG_FILE, 'utf8')).trimEnd(), ...people].join('\n---\n'),
  );
  return file;
}
