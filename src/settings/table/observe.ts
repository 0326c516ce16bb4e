/** Metrics and logs. */
import { optional, setting } from '../define.js';
import { bool, string } from '../values.js';

export const observeSettings = {
  metrics: setting({
    env: ['PIXGATE_METRICS', 'GOCAMO_METRICS'], flags: ['--metrics'], type: bool, default: false, group: 'observe',
    help: 'Serve Prometheus metrics at /metrics (go-camo metric names plus pixgate_*).',
  }),
  logJson: setting({
    env: ['PIXGATE_LOG_JSON', 'GOCAMO_LOG_JSON'], flags: ['--log-json'], type: bool, default: false, group: 'observe',
    help: 'Log JSON lines (pino) instead of readable text.',
  }),
  noLogTs: setting({
    env: ['PIXGATE_NO_LOG_TS', 'GOCAMO_NO_LOG_TS'], flags: ['--no-log-ts'], type: bool, default: false, group: 'observe',
    help: 'Leave timestamps out of log lines (for supervisors that add their own).',
  }),
  accessLog: setting({
    env: ['PIXGATE_ACCESS_LOG', 'SERVER_ACCESS_LOG'], flags: ['--access-log'], type: bool, default: false, group: 'observe',
    help: 'Log one line per request (job, status, time, bytes, source host; never the signed URL). Off by default, as imagor\'s.',
  }),
  verbose: setting({
    env: ['PIXGATE_VERBOSE', 'GOCAMO_VERBOSE'], flags: ['--verbose'], short: '-v', type: bool, default: false, group: 'observe',
    help: 'Debug logging.',
  }),
  appInfoVersion: optional({ env: ['APP_INFO_VERSION'], type: string, group: 'observe', help: 'Overrides the version label of camo_build_info.' }),
  appInfoRevision: optional({ env: ['APP_INFO_REVISION'], type: string, group: 'observe', help: 'Revision label of camo_build_info.' }),
  appInfoBranch: optional({ env: ['APP_INFO_BRANCH'], type: string, group: 'observe', help: 'Branch label of camo_build_info.' }),
  appInfoBuildDate: optional({ env: ['APP_INFO_BUILD_DATE'], type: string, group: 'observe', help: 'Build date of camo_build_info (not a label: go-camo v2.7.5 has none).' }),
} as const;
