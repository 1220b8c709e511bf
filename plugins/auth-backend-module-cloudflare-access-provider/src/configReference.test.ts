import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { loadConfigSchema } from '@backstage/config-loader';
import ts from 'typescript';

const PACKAGE_DIR = resolvePath(__dirname, '..');
const PROVIDER_PATH = ['auth', 'providers', 'cfaccess'];

/** Every key path config.d.ts declares under auth.providers.cfaccess, e.g. `serviceTokens[].token`. */
function declaredKeys(): string[] {
  const file = resolvePath(PACKAGE_DIR, 'config.d.ts');
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
  );
  const keys: string[] = [];
  const walk = (type: ts.TypeNode | undefined, path: string[]) => {
    if (!type) return;
    if (ts.isArrayTypeNode(type)) {
      walk(type.elementType, [
        ...path.slice(0, -1),
        `${path[path.length - 1]}[]`,
      ]);
    } else if (
      ts.isTypeReferenceNode(type) &&
      type.typeName.getText(source) === 'Array'
    ) {
      walk(type.typeArguments?.[0], [
        ...path.slice(0, -1),
        `${path[path.length - 1]}[]`,
      ]);
    } else if (ts.isTypeLiteralNode(type)) {
      for (const member of type.members) {
        if (ts.isPropertySignature(member) && member.name) {
          const next = [...path, member.name.getText(source)];
          keys.push(next.join('.'));
          walk(member.type, next);
        }
      }
    }
  };
  ts.forEachChild(source, node => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'Config') {
      for (const member of node.members) {
        if (ts.isPropertySignature(member)) {
          walk(member.type, [member.name.getText(source)]);
          keys.push(member.name.getText(source));
        }
      }
    }
  });
  const prefix = `${PROVIDER_PATH.join('.')}.`;
  return (
    keys
      .filter(key => key.startsWith(prefix))
      .map(key => key.slice(prefix.length))
      // Keys whose value is an object are documented through their leaves.
      .filter(key => !['signIn', 'signIn.resolvers[]'].includes(key))
  );
}

describe('the config reference', () => {
  const readme = readFileSync(resolvePath(PACKAGE_DIR, 'README.md'), 'utf8');
  const tableRows = readme.split('\n').filter(line => line.startsWith('| `'));
  const documented = new Set(
    tableRows.map(row => row.match(/^\| `([^`]+)`/)![1]),
  );

  it('reads the keys config.d.ts declares', () => {
    expect(declaredKeys()).toEqual(
      expect.arrayContaining([
        'teamName',
        'audience',
        'serviceTokens[].token',
        'signIn.resolvers[].allowedGroups',
      ]),
    );
  });

  it.each(declaredKeys())('documents %s in the README table', key => {
    expect(documented).toContain(key);
  });
});

describe('the visibility Backstage reads from config.d.ts', () => {
  it('keeps serviceTokens on the backend, unredacted: a Client ID is no secret, and log lines naming one must stay readable', async () => {
    const schema = await loadConfigSchema({
      dependencies: [],
      packagePaths: [resolvePath(PACKAGE_DIR, 'package.json')],
    });
    const data = {
      auth: {
        providers: {
          cfaccess: {
            teamName: 'team',
            audience: 'aud',
            serviceTokens: [{ token: 'ci.access', subject: 'ci@example.com' }],
          },
        },
      },
    };
    const visible = (visibility: 'frontend' | 'backend' | 'secret') =>
      schema.process([{ data, context: 'test' }], {
        visibility: [visibility],
        ignoreSchemaErrors: true,
      })[0].data;
    // Backstage's logger redacts every value of secret visibility wherever it appears.
    expect(visible('secret')).toEqual({});
    expect(visible('frontend')).toEqual({});
    expect(visible('backend')).toEqual(data);
  });
});
