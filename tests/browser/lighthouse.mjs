// Lighthouse on the web app's pages, in one Chromium tab (a Lighthouse user flow driven by
// puppeteer-core), so that a page behind the sign-in can be audited: the app keeps its session
// in the tab's sessionStorage, which survives every navigation in that tab.
//
//   node tests/browser/lighthouse.mjs '<json>'
//
// <json>: {"chrome": "/usr/bin/chromium", "base": "http://127.0.0.1:8123",
//          "pages": [{"name": "catalog", "hash": "#/jogos", "path": "/jogos", "signed_in": false}],
//          "email": "…", "password": "…", "preset": "mobile" | "desktop"}
// Pages that need a session come after the sign-in (done once, through the page's own form).
// Prints one JSON array: per page its name, URL, the three category scores (0–100), the main
// timings (ms; the layout shift has no unit) and the audits that cost points. Exits 1 when a
// page was not the one asked for (e.g. a redirect to the sign-in page).

import puppeteer from 'puppeteer-core';
import { desktopConfig, startFlow } from 'lighthouse';

const CATEGORIES = ['performance', 'accessibility', 'best-practices'];
const METRICS = ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time',
  'cumulative-layout-shift', 'speed-index'];
const args = JSON.parse(process.argv[2]);

function config(preset) {
  const base = preset === 'desktop' ? desktopConfig : { extends: 'lighthouse:default' };
  return { ...base, settings: { ...(base.settings || {}), onlyCategories: CATEGORIES } };
}

async function signIn(page) {
  await page.goto(`${args.base}/#/entrar`, { waitUntil: 'networkidle0' });
  await page.type('#email', args.email);
  await page.type('#password', args.password);
  await page.click('form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#menu button')]
    .some((b) => b.textContent === 'Sair'));
}

async function drawnPath(page) {
  await page.waitForFunction(() => {
    const main = document.getElementById('conteudo');
    return main.dataset.path && !main.hasAttribute('aria-busy');
  });
  return page.evaluate(() => document.getElementById('conteudo').dataset.path);
}

function costs(lhr) {
  const out = [];
  for (const name of CATEGORIES) {
    for (const ref of lhr.categories[name].auditRefs) {
      const audit = lhr.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 0.9) {
        out.push({ category: name, id: ref.id, score: audit.score, title: audit.title,
          value: audit.displayValue || '' });
      }
    }
  }
  return out;
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: args.chrome, headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const results = [];
  try {
    const page = await browser.newPage();
    // the tab keeps its session between pages: never reset storage between steps
    const flow = await startFlow(page, { config: config(args.preset), flags: { disableStorageReset: true } });
    let signedIn = false;
    for (const wanted of args.pages) {
      if (wanted.signed_in && !signedIn) { await signIn(page); signedIn = true; }
      // from a blank page: the app's URLs differ only in their hash, and a hash change is no load
      await page.goto('about:blank');
      await flow.navigate(`${args.base}/${wanted.hash}`, { name: wanted.name });
      const path = await drawnPath(page);
      if (path !== wanted.path) throw new Error(`${wanted.name}: drew ${path}, not ${wanted.path}`);
    }
    const flowResult = await flow.createFlowResult();
    flowResult.steps.forEach((step, i) => {
      const lhr = step.lhr;
      if (lhr.runtimeError) throw new Error(`${args.pages[i].name}: ${lhr.runtimeError.message}`);
      const scores = Object.fromEntries(CATEGORIES.map((c) => [c, Math.round(lhr.categories[c].score * 100)]));
      const metrics = Object.fromEntries(METRICS.map((m) => [m, lhr.audits[m].numericValue]));
      results.push({ name: args.pages[i].name, url: lhr.finalDisplayedUrl, scores, metrics, costs: costs(lhr) });
    });
  } finally {
    await browser.close();
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
