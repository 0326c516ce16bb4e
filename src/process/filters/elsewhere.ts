/**
 * imagor filters that the image processor accepts but does not act on, because another part of the server
 * owns them: response control (expire, attachment, max_age, preview, raw) and the meta endpoint's extras
 * (blurhash, thumbhash, avgcolor). Registering them keeps strict mode from calling them unknown.
 */
import { defineFilter, type FilterDef, type FilterPhase } from './types.js';

function handledElsewhere(name: string, phase: FilterPhase): FilterDef {
  return defineFilter({
    name,
    phases: [phase],
    animation: 'not-applicable',
    // Their arguments are checked where they are used (the server, the meta endpoint).
    parse: () => true,
  });
}

export const elsewhereFilters: readonly FilterDef[] = [
  handledElsewhere('expire', 'response'),
  handledElsewhere('attachment', 'response'),
  handledElsewhere('max_age', 'response'),
  handledElsewhere('preview', 'response'),
  handledElsewhere('raw', 'response'),
  handledElsewhere('blurhash', 'meta'),
  handledElsewhere('thumbhash', 'meta'),
  handledElsewhere('avgcolor', 'meta'),
];
