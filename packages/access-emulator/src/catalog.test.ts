import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { People, readCatalog, strangerGroupNames } from './catalog';
import { startAccessEmulator } from './emulator';

const examples = resolve(__dirname, '../../../examples');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the catalog', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'access-emulator-catalog-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads the example org: users with groups, group emails and the fixed Access ids', async () => {
    const people = await People.load([examples]);
    expect(
      people
        .list()
        .map(person => person.email)
        .sort(),
    ).toEqual([
      'ada@example.com',
      'ci-bot@example.com',
      'grace@example.com',
      'linus@example.com',
    ]);
    expect(people.identify('grace@example.com')).toEqual({
      email: 'grace@example.com',
      name: 'Grace Hopper',
      groups: [
        {
          id: '8c18650f-db31-4b22-b0b2-34a441fe843d',
          name: 'engineering',
          email: 'engineering@example.com',
        },
        {
          id: '69da3881-0fa4-4c2e-af7c-66086ef9b79e',
          name: 'security',
          email: '',
        },
      ],
      userId: 'dc2bb559-919c-40eb-ae1d-4bc1dcbdde0d',
      idpUserId: expect.stringMatching(UUID),
    });
    expect(people.identify('ada@example.com').groups).toEqual([
      {
        id: 'bb75c13a-6268-4379-9716-e58cf3133342',
        name: 'platform',
        email: '',
      },
    ]);
    expect(people.identify('ci-bot@example.com').groups).toEqual([]);
    const userIds = people.list().map(person => person.userId);
    expect(new Set(userIds).size).toBe(4);
    for (const id of userIds) {
      expect(id).toMatch(UUID);
    }
  });

  it('reads multi-document files from a directory, strips group refs and skips other files', async () => {
    await writeFile(
      join(dir, 'people.yml'),
      [
        'kind: User',
        'metadata: { name: sam, annotations: { cloudflare.com/access-user-id: sam-access-id } }',
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
    await writeFile(
      join(dir, 'groups.yaml'),
      [
        'kind: Group',
        'metadata: { name: ops-leads, annotations: { cloudflare.com/access-group-id: leads-access-id } }',
        'spec: { profile: { email: leads@example.com } }',
        '---',
        'kind: Group',
        'metadata: { name: ops }',
      ].join('\n'),
    );
    await writeFile(join(dir, 'notes.txt'), 'kind: User\nnot: yaml: at: all');

    const { users, groups } = await readCatalog([dir]);
    expect(users).toEqual([
      {
        email: 'sam@example.com',
        name: 'sam',
        id: 'sam-access-id',
        groups: ['ops', 'Ops-Leads', 'plain'],
      },
    ]);
    expect(groups.get('ops-leads')).toEqual({
      id: 'leads-access-id',
      email: 'leads@example.com',
    });
    expect(groups.get('ops')).toEqual({ id: undefined, email: '' });

    const sam = (await People.load([dir])).identify('sam@example.com');
    expect(sam.userId).toBe('sam-access-id');
    expect(sam.groups).toEqual([
      { id: expect.stringMatching(UUID), name: 'ops', email: '' },
      { id: 'leads-access-id', name: 'Ops-Leads', email: 'leads@example.com' },
      { id: expect.stringMatching(UUID), name: 'plain', email: '' },
    ]);
  });

  it('leaves out Users with no email, names them, and says so on the login page and in the log', async () => {
    const file = join(dir, 'create-app-org.yaml');
    await writeFile(
      file,
      [
        'apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: { name: guest }\nspec: { memberOf: [guests] }',
        'apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: { name: jane }\nspec: { profile: { email: jane@example.com }, memberOf: [] }',
      ].join('\n---\n'),
    );
    const contents = await readCatalog([file]);
    expect(contents.users.map(user => user.email)).toEqual([
      'jane@example.com',
    ]);
    expect(contents.skippedUsers).toEqual(['guest']);

    const logged: string[] = [];
    const emulator = await startAccessEmulator({
      audience: 'aud',
      catalog: [file],
      logger: line => logged.push(line),
    });
    try {
      const line =
        '1 catalog User not listed: no spec.profile.email, and Access signs people in by email (guest).';
      expect(logged).toContain(line);
      const page = await (
        await fetch(`${emulator.url}/cdn-cgi/access/login`)
      ).text();
      expect(page).toContain(line);
    } finally {
      await emulator.close();
    }
  });

  it('gives each group a random id, stable per name whatever its case, in one instance only', async () => {
    const users = [
      { email: 'a@example.com', groups: ['Platform'] },
      { email: 'b@example.com', groups: ['platform', 'security'] },
    ];
    const people = await People.load([], users);
    const [upper] = people.identify('a@example.com').groups;
    const [lower, other] = people.identify('b@example.com').groups;
    expect(upper.id).toMatch(UUID);
    expect(upper.id).toBe(lower.id);
    expect(other.id).not.toBe(lower.id);
    expect(people.identify('b@example.com').groups).toEqual([lower, other]);
    const [elsewhere] = (await People.load([], users)).identify(
      'b@example.com',
    ).groups;
    expect(elsewhere.id).not.toBe(lower.id);
  });

  it('takes groups given as objects, whose id and email win over the catalog', async () => {
    const people = await People.load(
      [examples],
      [
        {
          email: 'mallory@example.com',
          groups: [
            { name: '8c18650f-db31-4b22-b0b2-34a441fe843d' },
            {
              id: 'd3b5c1a8-0f0e-4a51-9a59-3c2b0c8f3e11',
              name: 'engineering',
              email: 'fake@example.com',
            },
            { name: 'platform' },
            'security',
          ],
        },
      ],
    );
    expect(people.identify('mallory@example.com').groups).toEqual([
      {
        id: expect.stringMatching(UUID),
        name: '8c18650f-db31-4b22-b0b2-34a441fe843d',
        email: '',
      },
      {
        id: 'd3b5c1a8-0f0e-4a51-9a59-3c2b0c8f3e11',
        name: 'engineering',
        email: 'fake@example.com',
      },
      {
        id: 'bb75c13a-6268-4379-9716-e58cf3133342',
        name: 'platform',
        email: '',
      },
      {
        id: '69da3881-0fa4-4c2e-af7c-66086ef9b79e',
        name: 'security',
        email: '',
      },
    ]);
    expect(people.identify('mallory@example.com').groups[0].id).not.toBe(
      '8c18650f-db31-4b22-b0b2-34a441fe843d',
    );
  });

  it('gives each person a random user id, kept per email, unless one is given', async () => {
    const people = await People.load(
      [],
      [{ email: 'a@example.com' }, { email: 'b@example.com', id: 'b-id' }],
    );
    const a = people.identify('a@example.com');
    expect(a.userId).toMatch(UUID);
    expect(a.idpUserId).toMatch(UUID);
    expect(a.idpUserId).not.toBe(a.userId);
    expect(people.identify('A@Example.com')).toMatchObject({
      userId: a.userId,
      idpUserId: a.idpUserId,
    });
    expect(people.identify('b@example.com').userId).toBe('b-id');
    const stranger = people.identify('stranger@example.org');
    expect(stranger.userId).toMatch(UUID);
    expect(people.identify('STRANGER@example.org').userId).toBe(
      stranger.userId,
    );
    expect(
      (await People.load([], [{ email: 'a@example.com' }])).identify(
        'a@example.com',
      ).userId,
    ).not.toBe(a.userId);
  });

  it('lets users given directly override catalog people, ids included', async () => {
    const people = await People.load(
      [examples],
      [
        { email: 'Ada@Example.com', name: 'Countess', groups: [] },
        { email: 'grace@example.com', id: 'grace-id' },
      ],
    );
    expect(people.identify('ada@example.com')).toEqual({
      email: 'Ada@Example.com',
      name: 'Countess',
      groups: [],
      userId: expect.stringMatching(UUID),
      idpUserId: expect.stringMatching(UUID),
    });
    expect(people.identify('ada@example.com').userId).not.toBe(
      'edf97d69-3608-4047-a34f-6f45b1143ec5',
    );
    expect(people.identify('grace@example.com').userId).toBe('grace-id');
  });

  it('names an unknown email after its local part, with no groups', async () => {
    const people = await People.load();
    expect(people.identify('someone.new@example.org')).toEqual({
      email: 'someone.new@example.org',
      name: 'someone.new',
      groups: [],
      userId: expect.stringMatching(UUID),
      idpUserId: expect.stringMatching(UUID),
    });
  });

  it('puts a stranger, never a known person, in the groups given at sign-in', async () => {
    const people = await People.load([examples]);
    expect(
      people.identify('someone.new@example.org', ['engineering', 'guild'])
        .groups,
    ).toEqual([
      {
        id: '8c18650f-db31-4b22-b0b2-34a441fe843d',
        name: 'engineering',
        email: 'engineering@example.com',
      },
      { id: expect.stringMatching(UUID), name: 'guild', email: '' },
    ]);
    expect(people.identify('ada@example.com', ['guild']).groups).toEqual([
      {
        id: 'bb75c13a-6268-4379-9716-e58cf3133342',
        name: 'platform',
        email: '',
      },
    ]);
  });

  it('trims group names given at sign-in, drops empty ones and bounds them', () => {
    expect(strangerGroupNames([' a ', '', '  ', 'b'])).toEqual({
      ok: true,
      names: ['a', 'b'],
    });
    expect(strangerGroupNames(Array(20).fill('x'.repeat(100)))).toMatchObject({
      ok: true,
    });
    expect(strangerGroupNames(Array(21).fill('x'))).toEqual({
      ok: false,
      reason: 'Give at most 20 Access groups, not 21.',
    });
    expect(strangerGroupNames(['x'.repeat(101)])).toMatchObject({ ok: false });
  });

  it('names the file it cannot parse', async () => {
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'kind: User\nmetadata: [unclosed\n');
    await expect(readCatalog([broken])).rejects.toThrow(broken);
  });
});
