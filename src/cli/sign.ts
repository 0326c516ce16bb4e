/**
 * `pixgate sign [--secret S] [--signer-type T] [--signer-truncate N] PATH`: prints the signed imagor path
 * `HASH/PATH`. A pure function of argv and env returning the output and exit code; it never exits the process.
 */
import { MIN_HASH_LENGTH } from '../parse/imagor-path.js';
import { signImagorPath, type ImagorSignerType } from '../verify/imagor-signature.js';
import type { MacFn } from '../verify/mac.js';
import { nodeMac } from '../verify/node-mac.js';

export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

const USAGE = `Usage: pixgate sign [--secret S] [--signer-type sha1|sha256|sha512] [--signer-truncate N] PATH

Prints HASH/PATH, the imagor URL path signed with the secret.
  --secret S            HMAC secret (env IMAGOR_SECRET)
  --signer-type T       sha1 (default), sha256 or sha512 (env IMAGOR_SIGNER_TYPE)
  --signer-truncate N   keep the first N characters of the hash, 0 = all (env IMAGOR_SIGNER_TRUNCATE)
PATH is the part after the hash, e.g. 500x500/top/example.com/a.png; leading slashes are ignored.
`;

const TYPES: readonly ImagorSignerType[] = ['sha1', 'sha256', 'sha512'];
const FLAGS = ['--secret', '--signer-type', '--signer-truncate'] as const;
type Flag = (typeof FLAGS)[number];

const usageError = (message: string): CliResult => ({
  stdout: '',
  stderr: `pixgate sign: ${message}\n\n${USAGE}`,
  exitCode: 2,
});

/** `argv` holds the arguments after `sign`. */
export function runSign(argv: readonly string[], env: Record<string, string | undefined>, mac: MacFn = nodeMac): CliResult {
  const flags = new Map<Flag, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { stdout: USAGE, stderr: '', exitCode: 0 };
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      if (!(FLAGS as readonly string[]).includes(name)) return usageError(`unknown option ${name}`);
      let value: string | undefined = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) return usageError(`${name} needs a value`);
      flags.set(name as Flag, value);
      continue;
    }
    positional.push(arg);
  }
  if (positional.length !== 1) return usageError(positional.length === 0 ? 'missing PATH' : 'expected a single PATH');

  const secret = flags.get('--secret') ?? env['IMAGOR_SECRET'] ?? '';
  if (secret === '') return usageError('no secret: pass --secret or set IMAGOR_SECRET');

  const typeText = flags.get('--signer-type') ?? env['IMAGOR_SIGNER_TYPE'] ?? 'sha1';
  const type = TYPES.find((t) => t === typeText.toLowerCase());
  if (!type) return usageError(`signer type ${JSON.stringify(typeText)}: expected sha1|sha256|sha512 (--signer-type, IMAGOR_SIGNER_TYPE)`);

  const truncateText = flags.get('--signer-truncate') ?? env['IMAGOR_SIGNER_TRUNCATE'] ?? '0';
  if (!/^\d+$/.test(truncateText)) {
    return usageError(`signer truncate ${JSON.stringify(truncateText)}: expected a whole number (--signer-truncate, IMAGOR_SIGNER_TRUNCATE)`);
  }
  const truncate = Number(truncateText);
  if (truncate > 0 && truncate < MIN_HASH_LENGTH) {
    return usageError(`signer truncate ${truncate}: imagor reads only hashes of ${MIN_HASH_LENGTH} or more characters`);
  }

  const path = positional[0]!.replace(/^\/+/, '');
  const hash = signImagorPath(path, { secret, type, truncate }, mac);
  return { stdout: `${hash}/${path}\n`, stderr: '', exitCode: 0 };
}
