/** The small landing page at `/`: the name, the version only with --expose-server-version, and a link to the docs. */
import type { App } from './app.js';

export function renderLanding(app: App): string {
  const version = app.settings.exposeServerVersion ? ` ${app.version}` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pixgate</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}</style></head>
<body><h1>pixgate${version}</h1>
<p>A secure image proxy and image processing server. Images are served only through signed URLs.</p>
<p>Documentation: <a href="https://github.com/pixgate/pixgate/tree/main/docs">docs</a></p>
</body></html>
`;
}
