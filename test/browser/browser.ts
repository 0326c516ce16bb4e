/**
 * Helpers for the browser tests: Debian's Chromium driven by playwright-core (never a downloaded browser), in a
 * fresh profile that cannot resolve any name but localhost, and test certificates made with openssl. When
 * Chromium or openssl is missing, `skipReason` says so and the tests skip with that message, except under CI
 * (the CI environment variable set): there the tests run and fail, saying how to install what is missing, so a
 * CI run cannot pass without them.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const INSTALL_CHROMIUM = `install Debian's Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does this)`;
const INSTALL_OPENSSL = 'install openssl (apt-get install openssl; .ci/run does this)';

/** True under CI: the CI environment variable is set to anything but '', 0 or false (CI=true, CI=1, ...). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** What the browser tests need and this machine lacks, as the sentence to show; undefined when nothing is. */
export function missingTool(opts: { openssl?: boolean; chromium?: string } = {}): string | undefined {
  const executable = opts.chromium ?? CHROMIUM;
  if (!existsSync(executable)) return `no Chromium at ${executable}: ${INSTALL_CHROMIUM}`;
  if (opts.openssl && !hasOpenssl()) return `openssl is not installed: ${INSTALL_OPENSSL}`;
  return undefined;
}

/**
 * Why the browser tests cannot run here, or false when they can. Under CI it is always false: the tests run,
 * and launchBrowser (or makeCertificates) fails them with the same sentence, so a missing browser is a failure.
 */
export function skipReason(opts: { openssl?: boolean; chromium?: string } = {}, env: NodeJS.ProcessEnv = process.env): string | false {
  const missing = missingTool(opts);
  if (missing === undefined || inCi(env)) return false;
  return `SKIPPED: ${missing}; the browser tests did not run (under CI they fail instead)`;
}

export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** SHA-256 hashes (base64) of the public keys of the only certificates accepted without a trusted root. */
  readonly trustedSpki?: readonly string[];
  /** The browser to run; Debian's Chromium by default. */
  readonly chromium?: string;
}

/** Chromium, headless, in a throwaway profile; no traffic can leave loopback (every other name fails to resolve). */
export async function launchBrowser(opts: LaunchOptions = {}): Promise<Browser> {
  const executable = opts.chromium ?? CHROMIUM;
  const missing = missingTool({ chromium: executable });
  if (missing !== undefined) throw new Error(`cannot run the browser tests: ${missing}`);
  const profile = mkdtempSync(join(tmpdir(), 'pixgate-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-proxy-server',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  ];
  // Chromium's own way to accept named test certificates: any other certificate error still fails the load,
  // and the page is still a secure context, so mixed-content checks work as on a real site.
  if (opts.trustedSpki?.length) args.push(`--ignore-certificate-errors-spki-list=${opts.trustedSpki.join(',')}`);
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: executable,
      headless: true,
      args,
      viewport: { width: 1280, height: 900 },
      deviceScaleFactor: 1,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface TestCertificates {
  readonly dir: string;
  readonly caCert: string;
  /** Key and certificate files (PEM) per name, each for 127.0.0.1 and localhost, signed by the test CA. */
  files(name: string): { key: string; cert: string };
  /** The SPKI hash Chromium's --ignore-certificate-errors-spki-list takes, for `name`'s certificate. */
  spki(name: string): string;
  remove(): void;
}

/** A throwaway CA and one server certificate per name, made with openssl. */
export function makeCertificates(names: readonly string[]): TestCertificates {
  if (!hasOpenssl()) throw new Error(`cannot run the HTTPS browser tests: openssl is not installed: ${INSTALL_OPENSSL}`);
  const dir = mkdtempSync(join(tmpdir(), 'pixgate-certs-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=pixgate test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  for (const name of names) {
    run(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n');
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  }
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    files: (name) => ({ key: join(dir, `${name}.key`), cert: join(dir, `${name}.crt`) }),
    spki(name) {
      const cert = new X509Certificate(readFileSync(join(dir, `${name}.crt`)));
      return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface PageWatch {
  /** Console messages (all levels) and Chromium's log entries, as `level: text`. */
  readonly messages: string[];
  /** Codes of DevTools issues raised (e.g. MixedContentIssue). */
  readonly issues: string[];
}

/** Records what the page's console, Chromium's log and the DevTools issues panel would show. */
export async function watchPage(page: Page): Promise<PageWatch> {
  const watch: PageWatch = { messages: [], issues: [] };
  page.on('console', (m) => watch.messages.push(`${m.type()}: ${m.text()}`));
  const cdp = await page.context().newCDPSession(page);
  cdp.on('Log.entryAdded', (e) => watch.messages.push(`${e.entry.level} (${e.entry.source}): ${e.entry.text}`));
  cdp.on('Audits.issueAdded', (e) => watch.issues.push(e.issue.code));
  await cdp.send('Log.enable');
  await cdp.send('Audits.enable');
  return watch;
}
