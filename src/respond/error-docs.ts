/** docs/errors.md, rendered from the error table. */
import { errorTable } from './error-table.js';

export function renderErrorsMarkdown(): string {
  const out = [
    '# Errors',
    '',
    '<!-- Generated from src/respond/error-table.ts by `npm run docs`; test/docs.test.ts fails when this file is stale. -->',
    '',
    'Every failure has a stable code. Camo URLs answer with go-camo\'s status and a plain-text message; imagor URLs',
    'answer with imagor\'s status and `{"message","status"}` JSON. Neither ever carries a stack trace, an internal',
    'detail or anything from the origin; the detail goes to the log (at debug level) instead.',
    '',
    '| code | camo status | camo message | imagor status | imagor message | when |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const [code, row] of Object.entries(errorTable)) {
    out.push(`| \`${code}\` | ${row.camo.status} | ${row.camo.message} | ${row.imagor.status} | ${row.imagor.message} | ${row.doc} |`);
  }
  return out.join('\n') + '\n';
}
