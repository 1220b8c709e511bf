import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { People, readCatalog } from './catalog';

const examples = resolve(__dirname, '../../../examples');

describe('the catalog', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'access-emulator-catalog-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads the example org: users with groups, and group emails', async () => {
    const people = await People.load([examples]);
    expect(people.list().map(person => person.email).sort()).toEqual([
      'ada@example.com',
      'ci-bot@example.com',
      'grace@example.com',
      'linus@example.com',
    ]);
    expect(people.identify('grace@example.com')).toEqual({
      email: 'grace@example.com',
      name: 'Grace Hopper',
      groups: [
        { id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'engineering', email: 'engineering@example.com' },
        { id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'security', email: '' },
      ],
    });
    expect(people.identify('ada@example.com').groups.map(group => group.name)).toEqual(['platform']);
    expect(people.identify('ci-bot@example.com').groups).toEqual([]);
  });

  it('reads multi-document files from a directory, strips group refs and skips other files', async () => {
    await writeFile(
      join(dir, 'people.yml'),
      [
        'kind: User',
        'metadata: { name: sam }',
        'spec:',
        '  profile: { email: sam@example.com }',
        '  memberOf: [group:default/ops, group:Ops-Leads, plain]',
        '---',
        'kind: User',
        'metadata: { name: nomail }',
        'spec: { profile: {} }',
        '---',
        'kind: Component',
        'metadata: { name: thing }',
      ].join('\n'),
    );
    await writeFile(join(dir, 'groups.yaml'), 'kind: Group\nmetadata: { name: ops-leads }\nspec: { profile: { email: leads@example.com } }\n');
    await writeFile(join(dir, 'notes.txt'), 'kind: User\nnot: yaml: at: all');

    const { users, groupEmails } = await readCatalog([dir]);
    expect(users).toEqual([{ email: 'sam@example.com', name: 'sam', groups: ['ops', 'Ops-Leads', 'plain'] }]);
    expect(groupEmails.get('ops-leads')).toBe('leads@example.com');

    const sam = (await People.load([dir])).identify('sam@example.com');
    expect(sam.groups.find(group => group.name === 'Ops-Leads')?.email).toBe('leads@example.com');
  });

  it('gives each group a stable id, whatever the case of the reference', async () => {
    const people = await People.load([], [
      { email: 'a@example.com', groups: ['Platform'] },
      { email: 'b@example.com', groups: ['platform', 'security'] },
    ]);
    const [upper] = people.identify('a@example.com').groups;
    const [lower, other] = people.identify('b@example.com').groups;
    expect(upper.id).toBe(lower.id);
    expect(other.id).not.toBe(lower.id);
  });

  it('lets users given directly override catalog people', async () => {
    const people = await People.load([examples], [{ email: 'Ada@Example.com', name: 'Countess', groups: [] }]);
    expect(people.identify('ada@example.com')).toEqual({ email: 'Ada@Example.com', name: 'Countess', groups: [] });
  });

  it('names an unknown email after its local part, with no groups', async () => {
    const people = await People.load();
    expect(people.identify('someone.new@example.org')).toEqual({
      email: 'someone.new@example.org',
      name: 'someone.new',
      groups: [],
    });
  });

  it('names the file it cannot parse', async () => {
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'kind: User\nmetadata: [unclosed\n');
    await expect(readCatalog([broken])).rejects.toThrow(broken);
  });
});
