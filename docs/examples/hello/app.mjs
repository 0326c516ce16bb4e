// A small web app that shows its pictures through pixgate. It signs imagor URLs (a thumbnail and a banner made
// from one photo), a camo URL (the photo proxied as it is), and rewrites the images of user-written HTML.
//
//   PIXGATE_URL=http://127.0.0.1:8080 IMAGOR_SECRET=... CAMO_KEY=... node app.mjs
//
// IMAGOR_SECRET and CAMO_KEY are the values pixgate was started with. The app serves its own photo.jpg,
// which pixgate fetches like any origin image.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { camoUrl, f, imagorUrl, rewriteHtml } from 'pixgate';

const pixgate = process.env.PIXGATE_URL ?? 'http://127.0.0.1:8080';
const secret = process.env.IMAGOR_SECRET;
const key = process.env.CAMO_KEY;
if (!secret || !key) throw new Error('set IMAGOR_SECRET and CAMO_KEY to the values pixgate was started with');

const photo = await readFile(new URL('./photo.jpg', import.meta.url));
const template = await readFile(new URL('./page.html', import.meta.url), 'utf8');

/** Text safe inside a double-quoted HTML attribute. */
const attr = (text) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** Comments as users wrote them: their images point anywhere, often at plain http:// addresses. */
const comments = (photoUrl) => `<p>Look at my cat! <img src="${photoUrl}" alt="a cat"></p>`;

async function renderPage(photoUrl) {
  const values = {
    thumbnail: attr(await imagorUrl(
      { image: photoUrl, fitIn: true, width: 200, height: 200, filters: [f.format('webp'), f.quality(80)] },
      { secret, baseUrl: pixgate },
    )),
    banner: attr(await imagorUrl({ image: photoUrl, width: 600, height: 200, smart: true }, { secret, baseUrl: pixgate })),
    original: attr(await camoUrl(photoUrl, { key, prefix: pixgate })),
    comments: await rewriteHtml(comments(photoUrl), {
      mode: 'imagor', secret, baseUrl: pixgate, imagor: { fitIn: true, width: 400 },
    }),
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_, name) => values[name]);
}

const server = createServer(async (req, res) => {
  // Where pixgate fetches the photo from. A real site would use the photo's public https:// address.
  const photoUrl = `http://127.0.0.1:${server.address().port}/photo.jpg`;
  if (req.url === '/photo.jpg') {
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': photo.length });
    res.end(photo);
  } else if (req.url === '/') {
    const html = await renderPage(photoUrl);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  } else {
    res.writeHead(404).end();
  }
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`open http://127.0.0.1:${server.address().port}/`);
});
