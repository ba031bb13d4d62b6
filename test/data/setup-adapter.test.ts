// scripts/setup-adapter.sh --print-backports-source on fake apt folders (APT_SOURCES_DIR): no apt, no root.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'apt-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the script's parser on an apt folder holding `files` (path → text). */
function backports(files: Record<string, string>): { stdout: string; stderr: string; status: number | null } {
  const dir = mkdtempSync(join(root, 'etc-apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const r = spawnSync('bash', ['scripts/setup-adapter.sh', '--print-backports-source'], {
    encoding: 'utf8',
    env: { ...process.env, APT_SOURCES_DIR: dir },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
const stanza = (uris: string, key?: string) =>
  `Types: deb\nURIs: ${uris}\nSuites: bookworm-backports\nComponents: main\n${key ? `Signed-By: ${key}\n` : ''}`;

describe("setup-adapter.sh: the backports entry follows the machine's apt sources", () => {
  it('deb822: takes the bookworm stanza (not -security), its mirror URIs and key', () => {
    const r = backports({
      'sources.list.d/debian.sources': [
        '# security first, on another host',
        'Types: deb',
        'URIs: http://security.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        'Signed-By: /k/security.gpg',
        '',
        'Types: deb deb-src',
        'URIs: http://mirror.corp:3142/debian http://mirror2.corp/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main contrib',
        'Signed-By: /usr/share/keyrings/corp-archive.gpg',
        '',
      ].join('\n'),
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(stanza('http://mirror.corp:3142/debian http://mirror2.corp/debian', '/usr/share/keyrings/corp-archive.gpg'));
  });

  it('deb822: skips a disabled stanza and keeps an inline key verbatim', () => {
    const r = backports({
      'sources.list.d/a.sources': 'Enabled: no\nTypes: deb\nURIs: http://old.example/debian\nSuites: bookworm\nComponents: main\n',
      'sources.list.d/b.sources':
        'Types: deb\nURIs: https://mirror.example/debian\nSuites: bookworm\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mDMEYCQjIx\n -----END PGP PUBLIC KEY BLOCK-----\n',
    });
    expect(r.stdout).toBe(
      stanza(
        'https://mirror.example/debian',
        '\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mDMEYCQjIx\n -----END PGP PUBLIC KEY BLOCK-----',
      ),
    );
  });

  it('classic sources.list: options in brackets, deb-src and -security lines ignored', () => {
    const r = backports({
      'sources.list':
        [
          'deb [signed-by=/k/sec.gpg] http://security.debian.org/debian-security bookworm-security main',
          'deb-src http://src.example/debian bookworm main',
          '# deb http://commented.example/debian bookworm main',
          'deb [ arch=amd64 signed-by=/usr/share/keyrings/mirror.gpg ] http://proxy.lan:8080/debian bookworm main non-free-firmware',
        ].join('\n') + '\n',
    });
    expect(r.stdout).toBe(stanza('http://proxy.lan:8080/debian', '/usr/share/keyrings/mirror.gpg'));
  });

  it("classic line without signed-by: no Signed-By (apt's trusted keys, as for the original entry)", () => {
    const r = backports({ 'sources.list.d/mirror.list': 'deb http://ftp.example.org/debian/ bookworm main\n' });
    expect(r.stdout).toBe(stanza('http://ftp.example.org/debian/'));
  });

  it('no bookworm entry: deb.debian.org, and says so', () => {
    const r = backports({ 'sources.list': 'deb http://archive.ubuntu.com/ubuntu jammy main\n' });
    expect(r.stdout).toBe(stanza('http://deb.debian.org/debian', '/usr/share/keyrings/debian-archive-keyring.gpg'));
    expect(r.stderr).toMatch(/no 'bookworm' entry in .*; using http:\/\/deb\.debian\.org\/debian/);
  });
});
