/**
 * `pixgate camo encode|decode`, output byte-identical to go-camo's url-tool: encode prints
 * `PREFIX/digest/encoded` (hex by default), decode prints the URL a camo URL carries when its digest verifies.
 * Pure: argv and env in, text and an exit code out.
 */
import { isPixgateError } from '../respond/errors.js';
import { formatCamoUrl, signCamoUrl, verifyCamoPath, type CamoEncoding } from '../verify/camo-digest.js';
import { nodeMac } from '../verify/node-mac.js';

export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

const USAGE = `Usage: pixgate camo encode [-k KEY] [-b hex|base64] [-p PREFIX] URL
       pixgate camo decode [-k KEY] URL
The key may also come from PIXGATE_CAMO_KEYS or GOCAMO_HMAC (the first key of the list).
`;

export function runCamoTool(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliResult {
  let command: string | undefined;
  let key: string | undefined;
  let encoding: CamoEncoding = 'hex';
  let prefix = '';
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (name: string): string | undefined => {
      if (a.startsWith(name + '=')) return a.slice(name.length + 1);
      if (a === name) return argv[++i];
      return undefined;
    };
    if (a === '-h' || a === '--help') return { stdout: USAGE, stderr: '', exitCode: 0 };
    const k = value('-k') ?? value('--key');
    if (k !== undefined) {
      key = k;
      continue;
    }
    const b = value('-b') ?? value('--base');
    if (b !== undefined) {
      if (b !== 'hex' && b !== 'base64') return usage(`invalid encoding "${b}": expected hex or base64`);
      encoding = b;
      continue;
    }
    const p = value('-p') ?? value('--prefix');
    if (p !== undefined) {
      prefix = p;
      continue;
    }
    if (a.startsWith('-')) return usage(`unknown flag ${a}`);
    if (!command && ['encode', 'enc', 'decode', 'dec'].includes(a)) command = a.startsWith('enc') ? 'encode' : 'decode';
    else positional.push(a);
  }
  key ??= (env.PIXGATE_CAMO_KEYS ?? env.GOCAMO_HMAC)?.split(',')[0]?.trim() || undefined;
  if (!command) return usage('expected encode or decode');
  if (!key) return usage('empty HMAC: give -k KEY (or set PIXGATE_CAMO_KEYS)');
  if (positional.length !== 1) return usage('expected exactly one URL');
  const input = positional[0]!;

  if (command === 'encode') {
    return { stdout: formatCamoUrl(prefix, signCamoUrl(input, key, encoding, nodeMac)) + '\n', stderr: '', exitCode: 0 };
  }
  let path: string;
  try {
    path = new URL(input).pathname;
  } catch {
    path = input;
  }
  // As go-camo's url-tool: the last two path components are digest and encoded URL.
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.length < 2) return { stdout: '', stderr: 'invalid camo url\n', exitCode: 1 };
  try {
    const url = verifyCamoPath(parts[parts.length - 2]!, parts[parts.length - 1]!, [key], nodeMac);
    return { stdout: url + '\n', stderr: '', exitCode: 0 };
  } catch (err) {
    if (isPixgateError(err)) return { stdout: '', stderr: 'hmac is invalid\n', exitCode: 1 };
    throw err;
  }
}

function usage(message: string): CliResult {
  return { stdout: '', stderr: `pixgate camo: ${message}\n${USAGE}`, exitCode: 2 };
}
