/**
 * `npm run example:screenshot`: open the browser example in headless Chromium, wait until it has
 * drawn its chart, and save examples/browser/screenshot.png (the picture in the README).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Browser } from '../../tools/browser/chromium.js';
import { startExampleServer } from './serve.js';

const out = fileURLToPath(new URL('./screenshot.png', import.meta.url));
const server = await startExampleServer();
const browser = await Browser.launch({ windowSize: [860, 560] });
try {
  const page = await browser.open(`${server.url}/`);
  const done = await page.evaluate<string>(
    `new Promise((resolve) => { const poll = () => document.body.dataset.done ? resolve(document.body.dataset.done) : setTimeout(poll, 50); poll(); })`, 180_000);
  if (done !== 'true') throw new Error(`the example failed: ${page.errors.join(' | ')}`);
  writeFileSync(out, await page.screenshot());
  console.log(`${await browser.version()}: ${out}`);
} finally {
  await browser.close();
  await server.close();
}
