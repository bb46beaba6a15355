// The client package in the three runtimes it is for: the same compiled scenario (scenario.ts,
// built with the package's own compiler settings) runs in Node, in workerd (Miniflare, the
// Workers runtime wrangler uses) and in headless Chromium, each against the real local stack,
// and each must give the report Node gives, which is itself checked against the API's answers.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, chromiumRequired, haveChromium, launchChromium } from '../../../test/browser/chromium.ts';
import { apiSearch, startChatbotStack, type ChatbotStack } from '../../../test/chatbot/stack.ts';
import { startBodyServer } from '../../../test/edge/harness.ts';
import { REPO_ROOT } from '../../../test/fixtures.ts';
import type { ScenarioInput } from './scenario.ts';

if (!haveChromium && chromiumRequired) throw new Error(`${chromiumMissing}; EDGESEARCH_REQUIRE_BROWSER=1 makes the browser run mandatory`);

let stack: ChatbotStack;
let out: string;
let input: ScenarioInput;
let nodeReport: Record<string, any>;

/** Serves `root` (the compiled scenario and client) and a page that exposes runScenario. */
function staticServer(root: string): ReturnType<typeof startBodyServer> {
  return startBodyServer(async (req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><script type="module">import { runScenario } from "./runtimes/scenario.js"; window.runScenario = runScenario; window.ready = true;</script>');
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || extname(file) !== '.js') return void res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
}

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'es-client-runtimes-'));
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'packages', 'client', 'runtimes', 'tsconfig.json'), '--outDir', out], { stdio: 'pipe' });
  stack = await startChatbotStack({ phrase: true });
  input = { endpoint: stack.edge.url, phraseEndpoint: stack.phrase!.edge.url, key: stack.key.key, tightKey: stack.tightKey.key };
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  if (out) await rm(out, { recursive: true, force: true });
});

describe('the client in Node, workerd and Chromium', () => {
  it('Node: the report holds what the API answers', async () => {
    const { runScenario } = (await import(pathToFileURL(join(out, 'runtimes', 'scenario.js')).href)) as typeof import('./scenario.ts');
    nodeReport = await runScenario(input);
    const api = await apiSearch(stack.edge.url, stack.key.key, { query: 'vitamin D deficiency and bone density', mode: 'bm25', k: 5 });
    expect(nodeReport.bm25.hits).toEqual(api.hits.map((h) => ({ rank: h.rank, docId: h.docId, score: h.score, title: h.title, chars: h.text.length })));
    expect(nodeReport.health).toEqual({ edge: 'ok', pool: 'ok', indexVersion: 'string' });
    expect(nodeReport.hybrid.hits).toHaveLength(4);
    expect(nodeReport.hybrid.branches).toBe(true);
    expect(nodeReport.batch[0]).toHaveLength(2);
    expect(nodeReport.batch[1]).toBe('bad_request');
    expect(nodeReport.answer.mode).toBe('phrase');
    expect(nodeReport.answer.hits).toBe(3);
    expect(nodeReport.answer.spans).toEqual([true, true, true]);
    expect(nodeReport.conversation).toMatchObject({
      idMatches: true,
      turns: [1, 2],
      sameConversation: true,
      stored: [
        { turn: 1, query: 'vitamin D and bone density', response: '(top hit of turn 1)' },
        { turn: 2, query: 'what about fractures?', response: 'Fracture risk was studied too [1].' },
      ],
      afterDelete: { status: 404, code: 'not_found' },
    });
    expect(nodeReport.errors).toEqual({
      badK: { name: 'EdgeSearchError', status: 400, code: 'bad_request', field: 'k', retryable: false, retryAfterPositive: false, requestId: true },
      phraseOnDenseIndex: { name: 'EdgeSearchError', status: 400, code: 'bad_request', field: 'mode', retryable: false, retryAfterPositive: false, requestId: true },
      unknownKey: { name: 'EdgeSearchError', status: 401, code: 'unauthorized', field: null, retryable: false, retryAfterPositive: false, requestId: true },
      noSuchConversation: { name: 'EdgeSearchError', status: 404, code: 'not_found', field: null, retryable: false, retryAfterPositive: false, requestId: true },
      rateLimited: { name: 'EdgeSearchError', status: 429, code: 'rate_limited', field: null, retryable: true, retryAfterPositive: true, requestId: true },
    });
  });

  it('workerd: the same report', async () => {
    expect(nodeReport, 'the Node run first').toBeDefined();
    const mf = new Miniflare({ modules: true, modulesRoot: out, scriptPath: join(out, 'runtimes', 'worker.js'), modulesRules: [{ type: 'ESModule', include: ['**/*.js'] }], compatibilityDate: '2026-05-01' });
    try {
      const res = await mf.dispatchFetch('http://scenario.local/', { method: 'POST', body: JSON.stringify(input) });
      const report = (await res.json()) as Record<string, unknown>;
      expect(report.failed, String(report.failed)).toBeUndefined();
      expect(report).toEqual(nodeReport);
    } finally {
      await mf.dispose();
    }
  });

  it.skipIf(!haveChromium)('Chromium: the same report, from a page on another origin (CORS)', async () => {
    expect(nodeReport, 'the Node run first').toBeDefined();
    const site = await staticServer(out);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(site.url);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      const report = await page.evaluate((i) => (window as unknown as { runScenario(i: unknown): Promise<unknown> }).runScenario(i), input);
      expect(pageErrors).toEqual([]);
      expect(report).toEqual(nodeReport);
    } finally {
      await browser.close();
      await site.close();
    }
  });
});
