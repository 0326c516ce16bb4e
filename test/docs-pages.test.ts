/**
 * The hand-written manual against the code it describes: links lead somewhere; the URL reference lists every
 * filter the server knows (and claims no support for one it lacks); the migration guides cover every go-camo flag
 * (from go-camo's README) and every imagor-style variable of the settings table, and what they say each name does
 * is what loadSettings does with it; the lifecycle page gives each error code the statuses of the error table;
 * the systemd unit and the Dockerfile only set settings that exist.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { unsupportedFilterNames } from '../src/process/filters/unsupported.js';
import { defaultFilterRegistry } from '../src/process/filters/registry.js';
import { errorTable, type ErrorCode } from '../src/respond/error-table.js';
import { loadSettings, SettingsError } from '../src/settings/load.js';
import { settingEntries } from '../src/settings/table.js';
import { repoRoot } from './helpers/pixgate.js';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

const knownEnv = new Set(settingEntries.flatMap(([, s]) => s.env));
const knownFlags = new Set([...settingEntries.flatMap(([, s]) => [...s.flags, ...(s.short ? [s.short] : [])]), '-V', '--version', '-VV', '-h', '--help']);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/^#{1,6}\s+(.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return out;
}

/** Rows of the markdown tables in `markdown`, as arrays of cells. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('| ') && !/^\|\s*-/.test(l))
    .map((l) => l.slice(1, -1).split(/(?<!\\) \| /).map((c) => c.trim().replace(/^\| ?| ?\|$/g, '')));
}

/** The names in backquotes of a cell: env names (UPPER_CASE) and flags (-x, --xyz). */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((n) => /^[A-Z][A-Z0-9_]+$/.test(n) || /^--?[a-zA-Z][\w-]*$/.test(n));
}

describe('the manual', () => {
  const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  test('every relative link in README.md and docs/ leads to a file and heading that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = read(page).replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const path = file === '' ? page : normalize(join(dirname(page), file));
        if (!existsSync(join(repoRoot, path))) {
          broken.push(`${page}: ${target} (no ${path})`);
        } else if (anchor && path.endsWith('.md') && !anchors(read(path)).has(anchor)) {
          broken.push(`${page}: ${target} (no heading #${anchor})`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  test('the URL reference lists every filter the server knows, and none it lacks as supported', () => {
    const filterCell = /^`([a-z_]+)\(/;
    const rows = tableRows(read('docs/urls.md')).filter((r) => filterCell.test(r[0] ?? ''));
    const documented = new Map(rows.map((r) => [filterCell.exec(r[0]!)![1]!, r.join(' ')] as const));
    for (const name of defaultFilterRegistry.names) assert.ok(documented.has(name), `filter ${name} is not in docs/urls.md`);
    for (const [name, row] of documented) {
      const unsupported = /not supported/.test(row);
      assert.equal(unsupported, defaultFilterRegistry.get(name) === undefined || unsupportedFilterNames.has(name), `${name}: the row ${unsupported ? 'says' : 'does not say'} "not supported"`);
    }
  });

  test('the lifecycle page gives every error code the statuses of the error table', () => {
    const rows = tableRows(read('docs/lifecycle.md')).filter((r) => /^`[A-Z_]+`$/.test(r[0] ?? ''));
    const seen = new Set<string>();
    for (const [cell, camo, imagor] of rows) {
      const code = cell!.slice(1, -1) as ErrorCode;
      assert.ok(code in errorTable, `${code} is not an error code`);
      assert.deepEqual([Number(camo), Number(imagor)], [errorTable[code].camo.status, errorTable[code].imagor.status], code);
      seen.add(code);
    }
    assert.deepEqual(Object.keys(errorTable).filter((c) => !seen.has(c)), [], 'codes missing from docs/lifecycle.md');
  });
});

/** What loadSettings does with one name set (a flag alone, or a variable set to "x"). */
function outcome(name: string): 'accepted' | 'warns' | 'stops the start' | 'ignored' {
  const known = knownEnv.has(name) || knownFlags.has(name);
  try {
    const loaded = name.startsWith('-') ? loadSettings({}, [name]) : loadSettings({ [name]: 'x' }, []);
    if (loaded.warnings.some((w) => w.includes(name))) return 'warns';
    return known ? 'accepted' : 'ignored';
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    // A known name whose value "x" does not read is still a name pixgate accepts.
    return !known && err.errors.some((e) => e.includes(name)) ? 'stops the start' : 'accepted';
  }
}

function checkMigrationRows(page: string): Map<string, string> {
  const rows = tableRows(read(page)).filter((r) => /^(same|different|not supported)/.test(r[2] ?? ''));
  assert.ok(rows.length > 20, `${page} has its tables`);
  const statusOf = new Map<string, string>();
  for (const [peer, ours, status] of rows) {
    const peerNames = names(peer!);
    for (const n of peerNames) statusOf.set(n, status!);
    if (status === 'same' || status === 'different') {
      for (const n of [...peerNames, ...names(ours!)]) {
        assert.ok(knownEnv.has(n) || knownFlags.has(n), `${page}: ${n} is said to be read (${status}) but pixgate does not know it`);
      }
    } else {
      const said = /\((warns|stops the start|ignored)\)/.exec(status!)?.[1] ?? (peerNames.every((n) => n.startsWith('-')) ? 'stops the start' : undefined);
      for (const n of peerNames) {
        assert.ok(!knownEnv.has(n) && !knownFlags.has(n), `${page}: ${n} is said to be not supported, but pixgate reads it`);
        assert.equal(outcome(n), said, `${page}: ${n} is said to be "${status}"`);
      }
    }
  }
  return statusOf;
}

describe('the migration guides', () => {
  test('every go-camo flag and variable has a row, and the rows say what pixgate does', () => {
    const rows = checkMigrationRows('docs/migrate-from-go-camo.md');
    // go-camo's own list: the flags of `go-camo -h` in its README, and its environment variables.
    const goCamoFlags = [
      '--help', '--key', '--header', '--listen', '--ssl-listen', '--socket-listen', '--quic', '--automaxprocs', '--ssl-key',
      '--ssl-cert', '--max-size', '--max-size-redirect', '--timeout', '--max-redirects', '--metrics', '--no-debug-vars',
      '--no-log-ts', '--log-json', '--no-fk', '--no-bk', '--allow-content-video', '--allow-content-audio',
      '--allow-credential-urls', '--filter-ruleset', '--server-name', '--expose-server-version', '--enable-xfwd4', '--verbose',
      '--version', 'GOCAMO_HMAC', 'HTTPS_PROXY', 'HTTP_PROXY', 'APP_INFO_REVISION', 'APP_INFO_BRANCH', 'APP_INFO_BUILD_DATE',
      'APP_INFO_VERSION',
    ];
    const ours = [...knownEnv].filter((n) => n.startsWith('GOCAMO_'));
    for (const n of [...goCamoFlags, ...ours]) assert.ok(rows.has(n), `${n} has no row in docs/migrate-from-go-camo.md`);
  });

  test('every imagor-style variable pixgate reads has a row, and the rows say what pixgate does', () => {
    const rows = checkMigrationRows('docs/migrate-from-imagor.md');
    const imagorStyle = [...knownEnv].filter((n) => /^(IMAGOR|HTTP_LOADER|VIPS|FILE|S3|AWS)_/.test(n) || n === 'PORT' || n === 'BIND');
    for (const n of imagorStyle) assert.ok(rows.has(n), `${n} has no row in docs/migrate-from-imagor.md`);
  });
});

describe('deployment files', () => {
  test('docs/deployment.md shows the systemd unit exactly as the file holds it', () => {
    const unit = read('docs/examples/systemd/pixgate.service').replace(/\n$/, '');
    assert.ok(read('docs/deployment.md').includes('```ini\n' + unit + '\n```'));
  });

  test('the systemd unit sets only settings that pixgate accepts', () => {
    const unit = read('docs/examples/systemd/pixgate.service');
    const env: Record<string, string> = { PIXGATE_CAMO_KEYS: 'k', IMAGOR_SECRET: 's' };
    for (const m of unit.matchAll(/^Environment=(.+)$/gm)) {
      for (const pair of m[1]!.split(/\s+/)) {
        const [k, v] = pair.split('=') as [string, string];
        env[k] = v;
      }
    }
    const argv = /^ExecStart=\S+(?: --[\w-]+=\S+)* \S+pixgate\.js(.*)$/m.exec(unit)![1]!.trim().split(/\s+/);
    assert.doesNotThrow(() => loadSettings(env, argv));
    assert.equal(loadSettings(env, argv).settings.fileResultStorageBaseDir, '/var/cache/pixgate');
  });

  test('the Dockerfile copies files that exist, sets settings pixgate accepts and runs the built entry point', () => {
    const dockerfile = read('Dockerfile');
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of m[1]!.split(/\s+/)) assert.ok(existsSync(join(repoRoot, source)), `COPY ${source}: no such file`);
    }
    const env: Record<string, string> = { PIXGATE_CAMO_KEYS: 'k' };
    const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)![1]!;
    for (const pair of block.split(/\s*\\\n\s*|\s+/).filter(Boolean)) {
      const [k, v] = pair.split('=') as [string, string];
      env[k] = v;
    }
    assert.doesNotThrow(() => loadSettings(env, []));
    assert.match(dockerfile, /^ENTRYPOINT \["node", "--initial-old-space-size=128", "bin\/pixgate\.js"\]$/m);
    assert.match(read('bin/pixgate.js'), /dist\/main\.js/);
    assert.equal(JSON.parse(read('package.json')).scripts.build, 'tsc -p tsconfig.build.json');
  });
});
