/** cfaccess-explain: asks a running backend, or explains a token alone, and exits 0, 1 or 2 with one line for a config it cannot read. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { promisify } from 'node:util';
import { useCfaccess } from './__testUtils__/testBackend';
import { runExplainCli } from './explainCli';

const BIN = resolvePath(__dirname, '../bin/cfaccess-explain');

describe('cfaccess-explain', () => {
  const { emulator, useBackend } = useCfaccess();
  const backend = useBackend();
  const configFile = join(
    mkdtempSync(join(tmpdir(), 'cfaccess-explain-')),
    'app-config.yaml',
  );
  beforeAll(() => {
    // The backend's provider, with its audience from the environment.
    const cfaccess = { ...backend.provider, audience: '${TEST_CF_ACCESS_AUD}' };
    writeFileSync(
      configFile,
      JSON.stringify({ auth: { providers: { cfaccess } } }),
    );
  });

  async function run(args: string[]) {
    let output = '';
    const code = await runExplainCli(
      ['--config', configFile, ...args],
      { write: text => void (output += text) },
      { env: { TEST_CF_ACCESS_AUD: 'aud' } },
    );
    return { code, output };
  }

  it('asks the running backend, which finds the catalog User', async () => {
    const { token } = await emulator.signIn('ada@example.com');
    const { code, output } = await run(['--backend', backend.url, token]);
    expect(output).toContain(
      'OK Accepted: ada@example.com passes every token check',
    );
    expect(output).toContain(
      `Backstage at ${backend.url} signs it in as user:default/ada`,
    );
    expect(code).toBe(0);
  });

  it('explains a person with no catalog User through the backend', async () => {
    const { token } = await emulator.signIn('nobody@example.com');
    const { code, output } = await run(['--backend', backend.url, token]);
    expect(output).toContain('refuses it: HTTP 403 (no_user)');
    expect(output).toContain(
      'for the administrator: no sign-in resolver found a User entity for this person',
    );
    expect(code).toBe(1);
  });

  it('answers 2 for a provider config that does not load', async () => {
    const { code, output } = await run(['--provider', 'absent', 'token']);
    expect(code).toBe(2);
    expect(output).toMatch(/cannot read the config: .*auth\.providers\.absent/);
  });

  it('runs as a command and exits 1 for a refused token', async () => {
    const token = await emulator.mintToken({ aud: ['not-this-app'] });
    const error = await promisify(execFile)(
      process.execPath,
      [BIN, '--config', configFile, token],
      { env: { ...process.env, TEST_CF_ACCESS_AUD: 'aud' } },
    ).catch(e => e);
    expect(error.code).toBe(1);
    expect(error.stdout).toContain('REFUSED (audience)');
    expect(error.stdout).toContain('token audience: not-this-app');
  }, 30_000);

  describe('exits 2 with one line on every config error, as a command', () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'cfaccess-explain-none-'));
    const invalid = join(emptyDir, 'invalid.yaml');
    writeFileSync(invalid, 'auth: [unclosed\n');

    // Three processes of their own, so they run side by side.
    it.concurrent.each([
      ['a missing config file', ['--config', join(emptyDir, 'nope.yaml')]],
      ['no app-config.yaml where it runs', []],
      ['a config file that is not YAML', ['--config', invalid]],
    ])(
      '%s',
      async (_name, args) => {
        const result = await promisify(execFile)(
          process.execPath,
          [BIN, ...args, 'some-token'],
          { cwd: emptyDir, timeout: 20_000 },
        ).catch(e => e);
        expect(result.killed).toBeFalsy();
        expect(result.code).toBe(2);
        const lines = result.stdout.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^cfaccess-explain: cannot read the config: /);
      },
      30_000,
    );
  });
});
