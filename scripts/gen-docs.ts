// Regenerates the docs pages that are rendered from code: docs/settings.md and docs/errors.md.
import { writeFileSync } from 'node:fs';
import { renderErrorsMarkdown } from '../src/respond/error-docs.js';
import { renderSettingsMarkdown } from '../src/settings/help.js';

writeFileSync('docs/settings.md', renderSettingsMarkdown());
writeFileSync('docs/errors.md', renderErrorsMarkdown());
console.log('wrote docs/settings.md and docs/errors.md');
