// Makes assets/sample.jpg, the image `pixgate dev` serves in its example URL: a deterministic 800x600 scene.
import sharp from 'sharp';

const width = 800;
const height = 600;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#3b6fb6"/><stop offset="1" stop-color="#f4c27a"/></linearGradient></defs>
  <rect width="100%" height="100%" fill="url(#sky)"/>
  <circle cx="600" cy="170" r="70" fill="#fff3c4"/>
  <path d="M0 450 L180 300 L330 420 L500 260 L800 470 L800 600 L0 600 Z" fill="#2f4f3a"/>
  <path d="M0 520 L250 430 L520 530 L800 480 L800 600 L0 600 Z" fill="#1e3527"/>
  <text x="40" y="80" font-family="sans-serif" font-size="48" font-weight="bold" fill="#ffffff">pixgate</text>
</svg>`;
await sharp(Buffer.from(svg)).jpeg({ quality: 82 }).toFile('assets/sample.jpg');
console.log('wrote assets/sample.jpg');
