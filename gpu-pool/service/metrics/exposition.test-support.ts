// A strict reader of the Prometheus text format 0.0.4, for tests: every line must be a HELP,
// TYPE, other comment, blank, or sample line, and every sample must belong to a family whose
// TYPE came before it. https://prometheus.io/docs/instrumenting/exposition_formats/

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Family name → its TYPE. */
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?[ \\t]+(\\S+)(?:[ \\t]+(-?\\d+))?$`);
/** Go's ParseFloat, which Prometheus uses, takes these case-insensitively (prom-client writes "Nan"). */
const SPECIAL = /^([+-]?)(inf|nan)$/i;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Sample names a family of each type owns besides its own name. */
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

export function parseExposition(text: string): Exposition {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition: the text must end with a newline');
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  const seenSamples = new Set<string>();
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`exposition line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (m === null) return; // a plain comment
      const [, keyword, name, rest = ''] = m;
      if (!new RegExp(`^${NAME}$`).test(name)) fail('bad metric name');
      if (keyword === 'HELP') {
        if (out.help.has(name)) fail('second HELP for one family');
        out.help.set(name, rest);
      } else {
        if (!TYPES.has(rest)) fail(`unknown type ${JSON.stringify(rest)}`);
        if (out.types.has(name)) fail('second TYPE for one family');
        if ([...seenSamples].some((s) => familyOf(s, name, rest))) fail('TYPE after the family’s samples');
        out.types.set(name, rest);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (m === null) return fail('not a sample line');
    const [, name, body, rawValue] = m;
    const family = [...out.types].find(([f, type]) => familyOf(name, f, type));
    if (family === undefined) fail('sample of no declared family');
    const value = parseValue(rawValue);
    if (value === undefined) fail(`bad value ${JSON.stringify(rawValue)}`);
    const labels = body === undefined ? {} : parseLabels(body, fail);
    if (family![1] === 'histogram' && name.endsWith('_bucket') && labels.le === undefined) fail('histogram bucket without le');
    seenSamples.add(name);
    out.samples.push({ name, labels, value: value! });
  });
  return out;
}

function familyOf(sample: string, family: string, type: string): boolean {
  return sample === family || (SUFFIXES[type] ?? []).some((s) => sample === family + s);
}

function parseValue(raw: string): number | undefined {
  const special = SPECIAL.exec(raw);
  if (special !== null) return special[2].toLowerCase() === 'nan' ? Number.NaN : special[1] === '-' ? -Infinity : Infinity;
  return FLOAT.test(raw) ? Number(raw) : undefined;
}

/** `a="x",b="y\"z"`: escapes are \\, \" and \n only; a trailing comma is allowed. */
function parseLabels(body: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) fail('label without "="');
    const name = body.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`label ${name} twice`);
    if (body[eq + 1] !== '"') fail(`label ${name}: value not quoted`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      if (j >= body.length) fail(`label ${name}: unterminated value`);
      const c = body[j];
      if (c === '"') break;
      if (c === '\\') {
        const next = body[j + 1];
        if (next === '\\' || next === '"') value += next;
        else if (next === 'n') value += '\n';
        else fail(`label ${name}: bad escape \\${next ?? ''}`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (i < body.length) {
      if (body[i] !== ',') fail(`expected "," after label ${name}`);
      i++;
    }
  }
  return labels;
}

/** The value of the one sample named `name` whose labels include `labels`; throws when not exactly one. */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return found[0].value;
}
