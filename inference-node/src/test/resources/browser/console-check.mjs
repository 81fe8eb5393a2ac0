// Drives the console in headless Chromium (playwright-core, the system's /usr/bin/chromium) and
// prints one JSON line with what the page showed; ConsoleBrowserIT asserts on it and on the PNG.
//   CONSOLE_URL, API_KEY, RECEIPT_ID, OTHER_RECEIPT_ID, SCREENSHOT, CHROMIUM
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set`);
  }
  return v;
};
const base = env('CONSOLE_URL');
const screenshot = env('SCREENSHOT');
const prompt = 'How do I reset my <b>password</b>?';
const concept = 'Casablanca';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const result = { check: 'console', consoleErrors: [], failedRequests: [], offOrigin: [] };
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('console', (m) => { if (m.type() === 'error') result.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => result.consoleErrors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => result.failedRequests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) result.offOrigin.push(r.url()); });

  const started = Date.now();
  await page.goto(`${base}/console/`);
  result.title = await page.title();
  await page.fill('#api-key', env('API_KEY'));
  await page.click('#login-button');
  await page.waitForSelector('#app-view:not([hidden])');
  result.user = await page.textContent('#user-name');
  result.keyInSessionStorage = await page.evaluate(() => sessionStorage.getItem('marginal.apiKey'));

  await page.fill('#chat-input', prompt);
  await page.click('#send-button');
  await page.waitForSelector('li.msg.assistant[data-state="streaming"], li.msg.assistant[data-state="done"]');
  const answer = page.locator('li.msg.assistant').last();
  await page.waitForSelector('li.msg.assistant[data-state="done"], li.msg.assistant[data-state="failed"]', { timeout: 60_000 });
  result.answerState = await answer.getAttribute('data-state');
  result.answer = await answer.locator('.bubble').textContent();
  result.interactionId = await answer.locator('.interaction-id').textContent();
  result.adaptersShown = await answer.locator('.adapters-used').textContent();
  result.userBubble = await page.locator('li.msg.user .bubble').last().textContent();
  result.injectedElements = await page.evaluate(() => document.querySelectorAll('#messages b').length);

  await answer.locator('button.thumb').first().click();
  await answer.locator('.status .ok').waitFor();
  result.thumbsStatus = await answer.locator('.status').textContent();

  await answer.locator('button.forget-button').click();
  await answer.locator('.status .ok', { hasText: 'deletion' }).waitFor();
  result.forgetThisStatus = await answer.locator('.status').textContent();

  await page.fill('#concept-input', concept);
  await page.click('#concept-button');
  await page.waitForSelector('#concept-status .ok');
  result.conceptStatus = await page.textContent('#concept-status');
  result.conceptDeletionId = await page.getAttribute('#concept-status .ok', 'data-deletion-id');

  const receipt = page.locator(`li.receipt[data-deletion-id="${env('RECEIPT_ID')}"]`);
  await receipt.waitFor({ timeout: 15_000 });
  result.receiptText = await receipt.textContent();
  result.receiptBadge = await receipt.locator('.badge').first().textContent();
  result.pageText = await page.textContent('body');
  result.otherUsersReceiptShown = result.pageText.includes(env('OTHER_RECEIPT_ID'));
  await page.waitForSelector('#memory li.entry');
  result.adaptersPanel = await page.textContent('#adapters');
  result.memoryPanel = await page.textContent('#memory');
  result.modelOptions = await page.locator('#model-select option').allTextContents();
  delete result.pageText;

  await page.mouse.move(0, 0);
  await page.screenshot({ path: screenshot });
  result.millis = Date.now() - started;
  console.log(JSON.stringify(result));
} catch (e) {
  if (page) {
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-failure.png') }).catch(() => {});
  }
  console.log(JSON.stringify({ ...result, check: 'console-failed', error: String(e && e.stack || e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
