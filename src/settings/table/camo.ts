/** The camo job: keys, URL handling and go-camo's response rules. */
import { optional, setting } from '../define.js';
import { bool, int, list, secret, string, url } from '../values.js';

export const camoSettings = {
  camoKeys: setting({
    env: ['PIXGATE_CAMO_KEYS', 'GOCAMO_HMAC'], flags: ['--key'], short: '-k', type: list(secret), default: [], group: 'camo',
    help: 'HMAC key(s) for camo URLs (repeatable; comma-separated in env). Any key verifies, the first signs. No key: camo routes are off.',
  }),
  camoPrefix: setting({
    env: ['PIXGATE_CAMO_PREFIX'], flags: ['--camo-prefix'], type: string, default: '', group: 'camo',
    help: 'Serve camo URLs under this path prefix (e.g. /camo). Empty: at the root, beside imagor URLs.',
  }),
  maxSizeKb: setting({
    env: ['PIXGATE_MAX_SIZE', 'GOCAMO_MAX_SIZE'], flags: ['--max-size'], type: int({ min: 0 }), default: 20480, group: 'camo',
    help: 'Largest response proxied, in KB, counted on the bytes streamed. 0 = no limit (go-camo\'s default; ours is 20 MB).',
  }),
  maxSizeRedirect: optional({
    env: ['PIXGATE_MAX_SIZE_REDIRECT', 'GOCAMO_MAX_SIZE_REDIRECT'], flags: ['--max-size-redirect'], type: url, group: 'camo',
    help: 'Answer 302 to this URL, instead of 404, when Content-Length is over --max-size.',
  }),
  allowContentVideo: setting({
    env: ['PIXGATE_ALLOW_CONTENT_VIDEO', 'GOCAMO_ALLOW_CONTENT_VIDEO'], flags: ['--allow-content-video'], type: bool, default: false, group: 'camo',
    help: 'Also proxy video/* responses.',
  }),
  allowContentAudio: setting({
    env: ['PIXGATE_ALLOW_CONTENT_AUDIO', 'GOCAMO_ALLOW_CONTENT_AUDIO'], flags: ['--allow-content-audio'], type: bool, default: false, group: 'camo',
    help: 'Also proxy audio/* responses.',
  }),
  filterRuleset: optional({
    env: ['PIXGATE_FILTER_RULESET', 'GOCAMO_FILTER_RULESET'], flags: ['--filter-ruleset'], type: string, group: 'camo',
    help: 'File of go-camo allow/deny rules, checked on the source URL and on every redirect hop. A bad line stops the start.',
  }),
  xForwardedFor: setting({
    env: ['PIXGATE_XFWD_FOR', 'GOCAMO_XFWD_FOR'], flags: ['--enable-xfwd4', '--xfwd4'], type: bool, default: false, group: 'camo',
    help: 'Send X-Forwarded-For upstream (off: origins never learn the reader\'s address).',
  }),
  noDebugVars: setting({
    env: ['GOCAMO_NO_DEBUG_VARS'], flags: ['--no-debug-vars'], type: bool, default: false, group: 'camo',
    help: 'Accepted for go-camo compatibility; pixgate has no /debug/vars endpoint at all.',
  }),
  automaxprocs: setting({
    env: ['GOCAMO_AUTOMAXPROCS'], flags: ['--automaxprocs'], type: bool, default: false, group: 'camo',
    help: 'Accepted for go-camo compatibility; no effect (use --workers).',
  }),
} as const;

export const camoKeyList = list(secret);
