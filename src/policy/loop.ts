/**
 * Request loops: a request that already passed through this server (our name in its Via) is refused before any
 * fetch, whichever job it is for. go-camo compares the whole Via header exactly; one entry is enough here, so a CDN
 * appending its own entry does not hide the loop.
 */
export function isOwnVia(via: string | undefined, serverName: string): boolean {
  if (!via) return false;
  return via.split(',').some((entry) => {
    const parts = entry.trim().split(/\s+/);
    return parts[0] === serverName || parts[1] === serverName;
  });
}
