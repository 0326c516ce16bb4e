// Regenerates the docs pages that are rendered from code: docs/settings.md, docs/errors.md and docs/api.md.
import { writeFileSync } from 'node:fs';
import { renderErrorsMarkdown } from '../src/respond/error-docs.js';
import { renderSettingsMarkdown } from '../src/settings/help.js';
import { renderApiMarkdown } from './gen-api-docs.js';

writeFileSync('docs/settings.md', renderSettingsMarkdown());
writeFileSync('docs/errors.md', renderErrorsMarkdown());
writeFileSync('docs/api.md', renderApiMarkdown());
console.log('wrote docs/settings.md, docs/errors.md and docs/api.md');
