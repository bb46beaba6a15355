// `--articles 0-23` / `--articles 0-3,7,10-12`: which SQuAD articles (0-based, file order) to
// train on, and the split: validation is the last `--validation-articles` of them, by article, so
// no paragraph is seen in training and validation alike.

export class ArticleRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArticleRangeError';
  }
}

/** The articles a list of inclusive ranges names, ascending, without repeats. */
export function parseArticles(text: string): number[] {
  const out = new Set<number>();
  const parts = text.split(',').map((p) => p.trim());
  if (text.trim() === '' || parts.some((p) => p === '')) throw new ArticleRangeError(`--articles must be article numbers or inclusive ranges separated by commas (e.g. 0-23 or 0-3,7), got "${text}"`);
  for (const part of parts) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new ArticleRangeError(`--articles: "${part}" is not an article number or a range like 0-23 (in "${text}")`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new ArticleRangeError(`--articles: the range ${part} ends before it starts (in "${text}")`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** The articles as ranges again (`0-19,22`), for logs and the training record. */
export function formatArticles(articles: readonly number[]): string {
  const out: string[] = [];
  for (let k = 0; k < articles.length; ) {
    let e = k;
    while (e + 1 < articles.length && articles[e + 1] === articles[e] + 1) e++;
    out.push(e === k ? `${articles[k]}` : `${articles[k]}-${articles[e]}`);
    k = e + 1;
  }
  return out.join(',');
}

/** Checks the articles exist in a file of `available` articles and splits off the last `validation` of them. */
export function splitArticles(articles: readonly number[], available: number, validation: number, file: string): { train: number[]; validation: number[] } {
  const missing = articles.filter((a) => a >= available);
  if (missing.length > 0)
    throw new ArticleRangeError(`--articles ${formatArticles(articles)}: ${file} has ${available} articles (0-${available - 1}); there is no article ${formatArticles(missing)}`);
  if (validation >= articles.length)
    throw new ArticleRangeError(`--validation-articles ${validation} leaves no training article of the ${articles.length} given (--articles ${formatArticles(articles)}); give more articles or fewer validation articles`);
  return { train: articles.slice(0, articles.length - validation), validation: articles.slice(articles.length - validation) };
}
