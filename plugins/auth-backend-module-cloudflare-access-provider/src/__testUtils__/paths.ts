/** The catalogs the tests sign people in from; light to import, for the tests that start no backend too. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';

/** The sample org of the repository's examples, which the emulator knows too. */
export const EXAMPLE_ORG = resolvePath(
  __dirname,
  '../../../../examples/org.yaml',
);

/** The odd cases of the resolver and provisioning tests that the sample org must not have. */
export const FIXTURE_CATALOG = resolvePath(
  __dirname,
  '../__fixtures__/catalog.yaml',
);

/** A copy of the example org, changed by `edit`, in a directory of its own: a catalog a test may change or keep apart. */
export function copyOfExampleOrg(edit: (org: string) => string = org => org) {
  const file = join(mkdtempSync(join(tmpdir(), 'cfaccess-org-')), 'org.yaml');
  writeFileSync(file, edit(readFileSync(EXAMPLE_ORG, 'utf8')));
  return file;
}
